/**
 * JenkinsJob ops against the Jenkins stand-in (test/support/jenkins), called
 * directly as the provider process would, without Pulumi.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OpContext, Props } from "../../../provider/context.ts";
import { childElements, childText, parseXml } from "../../../provider/jenkins/canonical-xml.ts";
import { closeJenkinsPools, JenkinsClient } from "../../../provider/jenkins/client.ts";
import { jenkinsJobOps as ops } from "../../../provider/jenkins-job.ts";
import { createProgress, setProgressSink } from "../../../provider/progress.ts";
import { type JenkinsStandIn, startJenkins } from "../../support/jenkins/index.ts";

let jenkins: JenkinsStandIn;
const lines: string[] = [];

function ctx(name = "job"): OpContext {
  return {
    label: `JenkinsJob ${name}`,
    progress: createProgress(`JenkinsJob ${name}`, 0),
    config: { get: () => undefined },
  };
}

const JENKINSFILE =
  "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'echo \"$ENV_IMAGE\" && true' } } }\n}\n";

function args(over: Props = {}): Props {
  return {
    btdName: "job",
    url: jenkins.url,
    username: jenkins.admin.name,
    apiToken: jenkins.admin.apiToken,
    name: "nightly",
    jenkinsfile: { text: JENKINSFILE },
    description: { text: "<p>Nightly</p>\n@owner alice" },
    parameters: [{ name: "ENV_IMAGE", default: "/filer/envs/a.sqsh", description: "env image" }],
    pulumiProject: "proj",
    pulumiStack: "test",
    createFolders: true,
    ...over,
  };
}

async function checked(a: Props): Promise<Props> {
  const r = await ops.check({}, a, ctx());
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

async function createJob(a: Props) {
  const inputs = await checked(a);
  const { id, outs } = await ops.create(inputs, ctx());
  return { id, outs, inputs };
}

const writes = () => jenkins.requests().filter((r) => r.write);

beforeAll(async () => {
  setProgressSink((l) => lines.push(l));
  jenkins = await startJenkins({
    users: [
      {
        name: "reader",
        apiToken: "reader-token-0123456789",
        password: "reader-password",
        permissions: ["read", "extendedRead"],
      },
    ],
  });
});
afterAll(async () => {
  await closeJenkinsPools();
  await jenkins?.stop();
});
afterEach(() => {
  jenkins.faults.clear();
});

describe("lifecycle", () => {
  it("creates, updates and deletes a job at the root and in nested folders", async () => {
    for (const name of ["root-job", "team/backtests/deploy"]) {
      const { id, outs, inputs } = await createJob(args({ name }));
      expect(id).toBe(name);
      expect(jenkins.jobs().get(name)?.type).toBe("flow-definition");
      expect(outs.jobUrl).toBe(
        `${jenkins.url}${name
          .split("/")
          .map((s) => `job/${s}/`)
          .join("")}`,
      );
      expect(outs.owners).toEqual(["alice"]);
      expect(outs.schemaVersion).toBe(1);
      expect(outs.apiToken).toBe(jenkins.admin.apiToken);

      const news = await checked(
        args({ name, parameters: [{ name: "ENV_IMAGE", default: "/filer/envs/b.sqsh" }] }),
      );
      const d = await ops.diff(id, outs, news, ctx());
      expect(d).toMatchObject({ changes: true, replaces: [] });
      const { outs: outs2 } = await ops.update(id, outs, news, ctx());
      expect(jenkins.config(name)).toContain("/filer/envs/b.sqsh");
      expect(outs2.configSha256).not.toBe(outs.configSha256);

      await ops.delete(id, outs2, ctx());
      expect(jenkins.jobs().has(name)).toBe(false);
      // Gone already: still success.
      await ops.delete(id, outs2, ctx());
      expect((await ops.read(id, outs2, ctx())).id).toBeUndefined();
      void inputs;
    }
  });

  it("refuses a missing folder without createFolders", async () => {
    await expect(createJob(args({ name: "nofolder/x", createFolders: false }))).rejects.toThrow(
      /BTD_JENKINS_NO_FOLDER/,
    );
  });
});

describe("no spurious diffs", () => {
  it("a no-op makes no write request, and re-serialization, builds and a restart are not drift", async () => {
    const { id, outs } = await createJob(args({ name: "stable/job" }));
    jenkins.clearRequestLog();
    const again = await checked(args({ name: "stable/job" }));
    expect((await ops.diff(id, outs, again, ctx())).changes).toBe(false);
    expect(jenkins.requests()).toEqual([]);

    jenkins.simulateBuild("stable/job");
    await jenkins.faults.restart(300);
    const r1 = await ops.read(id, outs, ctx());
    expect(r1.props?.configSha256).toBe(outs.configSha256);
    expect((await ops.diff(id, r1.props as Props, again, ctx())).changes).toBe(false);
    expect(writes()).toEqual([]);
    await ops.delete(id, outs, ctx());
  });

  it("a UI edit is drift, and update repairs it", async () => {
    const { id, outs } = await createJob(args({ name: "drifty" }));
    jenkins.editInUi("drifty", (xml) => xml.replace("/filer/envs/a.sqsh", "/tmp/hand-edited.sqsh"));
    const r = await ops.read(id, outs, ctx());
    expect(r.props?.configSha256).not.toBe(outs.configSha256);
    const news = await checked(args({ name: "drifty" }));
    expect((await ops.diff(id, r.props as Props, news, ctx())).changes).toBe(true);
    const { outs: repaired } = await ops.update(id, r.props as Props, news, ctx());
    expect(jenkins.config("drifty")).toContain("/filer/envs/a.sqsh");
    const r2 = await ops.read(id, repaired, ctx());
    expect(r2.props?.configSha256).toBe(repaired.configSha256);
    await ops.delete(id, repaired, ctx());
  });

  it("legacy Jenkins (echoes posted bytes) is stable too", async () => {
    jenkins.setMode("legacy");
    try {
      const { id, outs } = await createJob(args({ name: "legacy" }));
      const r = await ops.read(id, outs, ctx());
      expect(r.props?.configSha256).toBe(outs.configSha256);
      await ops.delete(id, outs, ctx());
    } finally {
      jenkins.setMode("modern");
    }
  });
});

describe("identity", () => {
  it("a rename keeps the job and its history; a type change is a replace", async () => {
    const { id, outs } = await createJob(args({ name: "team/old-name" }));
    jenkins.simulateBuild("team/old-name");
    const renamed = await checked(args({ name: "team/new-name" }));
    expect(await ops.diff(id, outs, renamed, ctx())).toMatchObject({ changes: true, replaces: [] });
    const { outs: after } = await ops.update(id, outs, renamed, ctx());
    expect(after.jobPath).toBe("team/new-name");
    expect(jenkins.jobs().has("team/old-name")).toBe(false);
    expect(jenkins.jobs().get("team/new-name")?.builds.length).toBe(1);
    expect((await ops.read(id, after, ctx())).props?.configSha256).toBe(after.configSha256);

    const freestyle = await checked(
      args({
        name: "team/new-name",
        template: { text: "<project><description>{{ description }}</description></project>" },
      }),
    );
    expect(await ops.diff(id, after, freestyle, ctx())).toMatchObject({
      replaces: ["rootElement"],
      deleteBeforeReplace: true,
    });
    const moved = await checked(args({ name: "other/new-name" }));
    expect(await ops.diff(id, after, moved, ctx())).toMatchObject({
      replaces: ["folder"],
      deleteBeforeReplace: false,
    });
    await ops.delete(id, after, ctx());
  });
});

describe("ownership", () => {
  it("refuses an unmarked job unless adopt, and never deletes it", async () => {
    const client = new JenkinsClient(jenkins.url, { username: "admin", apiToken: jenkins.admin.apiToken });
    await client.createItem(
      [],
      "handmade",
      "<flow-definition><description>made by hand</description></flow-definition>",
    );
    await client.createItem([], "handmade-freestyle", "<project/>");
    await expect(createJob(args({ name: "handmade-freestyle", adopt: true }))).rejects.toThrow(
      /is a <project>.*BTD_JENKINS_TYPE_MISMATCH/,
    );
    await expect(createJob(args({ name: "handmade" }))).rejects.toThrow(/BTD_JENKINS_UNMARKED_JOB/);
    expect(jenkins.config("handmade")).toContain("made by hand");
    const fake = { ...(await checked(args({ name: "handmade" }))), jobPath: "handmade", configSha256: "x" };
    await expect(ops.delete("handmade", fake, ctx())).rejects.toThrow(/not deleted/);
    expect(jenkins.jobs().has("handmade")).toBe(true);

    const { outs } = await createJob(args({ name: "handmade", adopt: true }));
    expect(jenkins.config("handmade")).toContain("Managed by backtest-deploy");
    await ops.delete("handmade", outs, ctx());
  });

  it("refuses a same-named stack's job of another project, and takes over its own (retried create)", async () => {
    await createJob(args({ name: "shared", pulumiProject: "other-project" }));
    await expect(createJob(args({ name: "shared", adopt: true }))).rejects.toThrow(
      /other-project.*BTD_JENKINS_FOREIGN_JOB/,
    );
    const { outs } = await createJob(args({ name: "mine" }));
    const retried = await createJob(args({ name: "mine" }));
    expect(retried.outs.configSha256).toBe(outs.configSha256);
  });
});

describe("HTTP", () => {
  it("retries 503s and connection resets", async () => {
    jenkins.faults.failNext(2, { status: 503 });
    jenkins.faults.resetNext(1, { afterHandling: true, filter: { method: "POST", path: "createItem" } });
    const { outs } = await createJob(args({ name: "flaky" }));
    expect(jenkins.jobs().has("flaky")).toBe(true);
    expect(lines.some((l) => /retrying/.test(l))).toBe(true);
    await ops.delete("flaky", outs, ctx());
  });

  it("reports 401 and 403 with Jenkins' headers and no token", async () => {
    const bad = "wrong-token-0123456789";
    const e401 = await createJob(args({ name: "x", apiToken: bad })).catch((e: Error) => e);
    expect(String(e401)).toMatch(/401.*WWW-Authenticate: Basic realm="Jenkins".*BTD_JENKINS_UNAUTHORIZED/);
    expect(String(e401)).not.toContain(bad);
    expect(String(e401)).not.toContain(jenkins.admin.apiToken);

    const e403 = await createJob(
      args({ name: "y", username: "reader", apiToken: "reader-token-0123456789" }),
    ).catch((e: Error) => e);
    expect(String(e403)).toMatch(
      /403.*X-You-Are-Authenticated-As: reader.*X-Required-Permission: [\w.]+.*BTD_JENKINS_FORBIDDEN/,
    );
  });

  it("password auth with crumb and session works across a restart", async () => {
    const { outs } = await createJob(
      args({ name: "pw", apiToken: undefined, password: jenkins.admin.password }),
    );
    await jenkins.faults.restart(200);
    const news = await checked(
      args({ name: "pw", apiToken: undefined, password: jenkins.admin.password, disabled: true }),
    );
    await ops.update("pw", outs, news, ctx());
    expect(jenkins.config("pw")).toContain("<disabled>true</disabled>");
  });

  it("special and non-ASCII values reach Jenkins as the author wrote them", async () => {
    const value = `a & b <c> ]]> "q" 'q' café 日本 — ✓ \\ 𝔘`;
    await createJob(
      args({ name: "unicode", jenkinsfile: { text: value }, parameters: [{ name: "P", default: value }] }),
    );
    const root = parseXml(jenkins.config("unicode") as string);
    const script = childElements(root).find((c) => c.name === "definition");
    expect(script && childText(script, "script")).toBe(value);
    expect(jenkins.config("unicode")).toContain(value.replace(/&/g, "&amp;").slice(0, 1));
    expect(JSON.stringify(jenkins.config("unicode"))).toContain("café 日本");
  });
});

describe("check", () => {
  it("fails on bad names, unknown variables and malformed templates, naming file and line", async () => {
    const r = await ops.check(
      {},
      args({ name: "team/bad:name", template: { text: "<project>\n{{ nope }}</project>" } }),
      ctx(),
    );
    expect(r.failures).toEqual(expect.arrayContaining([expect.objectContaining({ property: "name" })]));
    const r2 = await ops.check(
      {},
      args({
        template: {
          text: "<project>\n  <description>{{ description }}</description>\n  <x>{{ nope }}</x>\n</project>",
        },
      }),
      ctx(),
    );
    expect(r2.failures?.[0]).toMatchObject({ property: "template" });
    expect(r2.failures?.[0]?.reason).toMatch(/^template:3:\d+: "\{\{ nope \}\}" is undefined/);
  });

  it("renders what is known when vars are unknown in preview", async () => {
    const r = await ops.check(
      {},
      args({
        template: {
          text: "<project><description>{{ description }}</description><x>{{ image }}</x></project>",
        },
        vars: { image: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
      }),
      ctx(),
    );
    expect(r.failures ?? []).toEqual([]);
    expect(r.inputs?.config).toContain("[known at deploy: vars.image]");
    expect(r.inputs?.knownAtDeploy).toEqual(["vars.image"]);
  });
});
