/**
 * JenkinsJob through the real Pulumi CLI against the Jenkins stand-in.
 * Needs the compiled package (npx tsc -p tsconfig.build.json).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type JenkinsStandIn, startJenkins } from "../support/jenkins/index.ts";
import { createProject, type PulumiProject, REPO_ROOT } from "../support/pulumi/harness.ts";

let jenkins: JenkinsStandIn;
let project: PulumiProject;
let env: Record<string, string>;
const PATH_OF = "team/backtests/nightly";

beforeAll(async () => {
  jenkins = await startJenkins();
  env = { JJ_URL: jenkins.url, JJ_TOKEN: jenkins.admin.apiToken };
  project = await createProject({
    projectName: "jj-e2e",
    programModule: join(REPO_ROOT, "test/e2e/programs/jenkins-job.ts"),
    env,
  });
  await writeFile(
    join(project.workDir, "Jenkinsfile"),
    "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'run \"$ENV_IMAGE\" && echo ok' } } }\n}\n",
  );
  await writeFile(
    join(project.workDir, "description.html"),
    "<p>Nightly backtest — café</p>\n@owner alice\n",
  );
});

afterAll(async () => {
  await project?.dispose();
  await jenkins?.stop();
});

const writes = () => jenkins.requests().filter((r) => r.write);

it("deploys, no-ops without writes, ignores re-serialization/builds/restarts, repairs drift, keeps the token secret", async () => {
  const up = await project.up();
  expect(up.steps.nightly).toBe("create");
  expect(jenkins.jobs().get(PATH_OF)?.type).toBe("flow-definition");
  expect(up.outputs?.owners?.value).toEqual(["alice"]);

  jenkins.clearRequestLog();
  const again = await project.up();
  expect(again.steps.nightly).toBe("same");
  expect(writes()).toEqual([]);

  jenkins.simulateBuild(PATH_OF);
  await jenkins.faults.restart(300);
  await project.refresh();
  const preview = await project.preview();
  expect(preview.steps.nightly).toBe("same");
  expect(writes()).toEqual([]);

  jenkins.editInUi(PATH_OF, (xml) => xml.replace("<sandbox>true</sandbox>", "<sandbox>false</sandbox>"));
  await project.refresh();
  const drifted = await project.preview();
  expect(drifted.steps.nightly).toBe("update");
  await project.up();
  expect(jenkins.config(PATH_OF)).toContain("<sandbox>true</sandbox>");
  await project.refresh();
  expect((await project.preview()).steps.nightly).toBe("same");

  const state = await project.stateFileText();
  expect(state).not.toContain(jenkins.admin.apiToken);
  for (const outcome of [up, again, drifted]) {
    expect(outcome.output).not.toContain(jenkins.admin.apiToken);
    // Pulumi's Node SDK itself logs RegisterResource responses, secrets included, at debug severity;
    // those lines are not shown by the CLI, so only what a user sees is checked.
    const shown = outcome.events.filter((e) => e.diagnosticEvent?.severity !== "debug");
    expect(JSON.stringify(shown)).not.toContain(jenkins.admin.apiToken);
  }
});

it("fails at preview on an unknown variable or a malformed template, naming the file and line", async () => {
  const unknownVar = await project.preview({
    env: {
      JJ_TEMPLATE:
        "<flow-definition>\n  <description>{{ description }}</description>\n  <x>{{ envImage }}</x>\n</flow-definition>",
    },
    allowFailure: true,
  });
  expect(unknownVar.ok).toBe(false);
  expect(unknownVar.output + unknownVar.diagnostics.join("\n")).toMatch(
    /template:3:\d+: "\{\{ envImage \}\}" is undefined/,
  );
  const malformed = await project.preview({
    env: {
      JJ_TEMPLATE:
        "<flow-definition>\n  <description>{{ description }}</description>\n  <x>\n</flow-definition>",
    },
    allowFailure: true,
  });
  expect(malformed.ok).toBe(false);
  expect(malformed.output + malformed.diagnostics.join("\n")).toMatch(
    /template:4: the rendered config\.xml is not well-formed/,
  );
});

it("freestyle to pipeline is a replace; a rename keeps history; destroy removes the job", async () => {
  const freestyle = "<project>\n  <description>{{ description }}</description>\n</project>";
  const toFreestyle = await project.up({ env: { JJ_TEMPLATE: freestyle } });
  expect(toFreestyle.steps.nightly).toBe("replace");
  expect(jenkins.jobs().get(PATH_OF)?.type).toBe("project");

  const back = await project.up();
  expect(back.steps.nightly).toBe("replace");
  jenkins.simulateBuild(PATH_OF);

  const renamed = await project.up({ env: { JJ_NAME: "team/backtests/nightly-v2" } });
  expect(renamed.steps.nightly).toBe("update");
  expect(jenkins.jobs().has(PATH_OF)).toBe(false);
  expect(jenkins.jobs().get("team/backtests/nightly-v2")?.builds.length).toBe(1);
  expect((await project.preview({ env: { JJ_NAME: "team/backtests/nightly-v2" } })).steps.nightly).toBe(
    "same",
  );

  await project.destroy({ env: { JJ_NAME: "team/backtests/nightly-v2" } });
  expect(jenkins.jobs().has("team/backtests/nightly-v2")).toBe(false);
});
