/**
 * JenkinsJob through the real Pulumi CLI when Jenkins misbehaves or the job
 * already exists: transient failures during `up` are retried, and a job that
 * is not ours (unmarked, or marked by another project's stack of the same
 * name) is refused and left untouched.
 * Needs the compiled package (npx tsc -p tsconfig.build.json).
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type JenkinsStandIn, startJenkins } from "../support/jenkins/index.ts";
import { createProject, type PulumiProject, REPO_ROOT } from "../support/pulumi/harness.ts";

let jenkins: JenkinsStandIn;
const projects: PulumiProject[] = [];

beforeAll(async () => {
  jenkins = await startJenkins();
});

afterAll(async () => {
  for (const p of projects) await p.dispose();
  await jenkins?.stop();
});

async function project(projectName: string, stackName = "test"): Promise<PulumiProject> {
  const p = await createProject({
    projectName,
    stackName,
    programModule: join(REPO_ROOT, "test/e2e/programs/jenkins-job.ts"),
    env: { JJ_URL: jenkins.url, JJ_TOKEN: jenkins.admin.apiToken },
  });
  await writeFile(
    join(p.workDir, "Jenkinsfile"),
    "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'true' } } }\n}\n",
  );
  await writeFile(join(p.workDir, "description.html"), "<p>Nightly</p>\n@owner alice\n");
  projects.push(p);
  return p;
}

/** Creates a job the way a person or another tool would: straight through the REST API. */
async function createByHand(parent: string, name: string, xml: string): Promise<void> {
  const auth = Buffer.from(`${jenkins.admin.name}:${jenkins.admin.apiToken}`).toString("base64");
  const res = await fetch(`${jenkins.url}${parent}createItem?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { authorization: `Basic ${auth}`, "content-type": "application/xml; charset=utf-8" },
    body: xml,
  });
  expect(res.status).toBe(200);
}

const writesTo = (path: string) => jenkins.requests().filter((r) => r.write && r.path.includes(path));
const failureText = (o: { output: string; diagnostics: string[] }) =>
  `${o.output}\n${o.diagnostics.join("\n")}`;

it("503s and connection resets during up are retried, and the up succeeds", async () => {
  const p = await project("jj-faults");
  const env = { JJ_NAME: "flaky/nightly" };
  jenkins.clearRequestLog();
  // Every kind of request meets a fault: reads, folder and job creation, and a create whose answer is lost
  // after Jenkins carried it out (the retry then finds the job already there, with our marker).
  jenkins.faults.failNext(2, { status: 503, filter: { method: "GET" } });
  jenkins.faults.failNext(1, { status: 502, filter: { method: "POST", path: "/job/flaky/createItem" } });
  jenkins.faults.resetNext(1, { filter: { method: "GET", path: "config.xml" } });
  jenkins.faults.resetNext(1, {
    afterHandling: true,
    filter: { method: "POST", path: "/job/flaky/createItem" },
  });
  jenkins.faults.failNext(1, { status: 504, filter: { method: "POST", path: "/job/flaky/" } });

  const up = await p.up({ env });
  expect(up.ok).toBe(true);
  expect(up.steps.nightly).toBe("create");
  const faults = jenkins.requests().filter((r) => r.fault !== undefined);
  expect(faults.filter((r) => r.fault === "unavailable").length).toBe(4);
  expect(faults.filter((r) => r.fault === "reset").length).toBe(2);
  const job = jenkins.jobs().get("flaky/nightly");
  expect(job?.type).toBe("flow-definition");
  expect(job?.configXml).toContain("Managed by backtest-deploy (project: jj-faults, stack: test)");
  expect([...jenkins.jobs().keys()].filter((k) => k.startsWith("flaky/"))).toEqual(["flaky/nightly"]);

  // What the retries left behind is exactly what a clean deploy leaves: the next up has nothing to do.
  jenkins.clearRequestLog();
  const again = await p.up({ env });
  expect(again.steps.nightly).toBe("same");
  expect(jenkins.requests().filter((r) => r.write)).toEqual([]);
  await p.destroy({ env });
  expect(jenkins.jobs().has("flaky/nightly")).toBe(false);
});

it("an unmarked existing job is refused and left untouched without adopt, and taken over with adopt", async () => {
  const p = await project("jj-adopt");
  const env = { JJ_NAME: "legacy-nightly" };
  const handMade =
    "<?xml version='1.1' encoding='UTF-8'?>\n<flow-definition>\n  <description>made in the web UI</description>\n" +
    '  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition">\n    <script>echo hi</script>\n' +
    "    <sandbox>true</sandbox>\n  </definition>\n</flow-definition>\n";
  await createByHand("", "legacy-nightly", handMade);
  jenkins.simulateBuild("legacy-nightly");
  const before = jenkins.config("legacy-nightly");

  jenkins.clearRequestLog();
  const refused = await p.up({ env, allowFailure: true });
  expect(refused.ok).toBe(false);
  expect(failureText(refused)).toMatch(
    /a job "legacy-nightly" already exists in Jenkins and was not created by backtest-deploy/,
  );
  expect(failureText(refused)).toMatch(/adopt: true/);
  expect(jenkins.config("legacy-nightly")).toBe(before);
  expect(writesTo("/job/legacy-nightly/")).toEqual([]);
  expect((await p.exportState()).deployment.resources?.some((r) => r.urn.endsWith("::nightly"))).toBe(false);

  const adopted = await p.up({ env: { ...env, JJ_ADOPT: "true" } });
  expect(adopted.steps.nightly).toBe("create");
  const job = jenkins.jobs().get("legacy-nightly");
  expect(job?.configXml).toContain("Managed by backtest-deploy (project: jj-adopt, stack: test)");
  // Taken over in place, not deleted and recreated: the history stays.
  expect(job?.builds.length).toBe(1);

  await p.destroy({ env: { ...env, JJ_ADOPT: "true" } });
  expect(jenkins.jobs().has("legacy-nightly")).toBe(false);
});

it("a same-named job of another project's stack of the same name is refused", async () => {
  const env = { JJ_NAME: "shared/nightly" };
  const owner = await project("jj-team-a", "prod");
  const intruder = await project("jj-team-b", "prod");
  await owner.up({ env });
  const before = jenkins.config("shared/nightly");

  jenkins.clearRequestLog();
  const refused = await intruder.up({ env, allowFailure: true });
  expect(refused.ok).toBe(false);
  expect(failureText(refused)).toMatch(
    /managed by backtest-deploy project "jj-team-a", stack "prod", not project "jj-team-b", stack "prod"/,
  );
  expect(jenkins.config("shared/nightly")).toBe(before);
  expect(writesTo("/job/shared/job/nightly/")).toEqual([]);

  // The owner still sees its job as it left it.
  expect((await owner.preview({ env })).steps.nightly).toBe("same");
  await owner.destroy({ env });
  expect(jenkins.jobs().has("shared/nightly")).toBe(false);
});
