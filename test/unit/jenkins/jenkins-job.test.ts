/**
 * The pure half of JenkinsJob: check() (validation and render) and diff()
 * (update, rename or replace). No Jenkins: these run before any request.
 */
import { describe, expect, it } from "vitest";
import type { CheckFailure, OpContext, Props } from "../../../provider/context.ts";
import { jenkinsJobOps as ops } from "../../../provider/jenkins-job.ts";
import { createProgress } from "../../../provider/progress.ts";
import { UNKNOWN } from "../../../provider/unknown.ts";

const ctx: OpContext = {
  label: "JenkinsJob job",
  progress: createProgress("JenkinsJob job", 0),
  config: { get: () => undefined },
};

const JENKINSFILE = "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'true' } } }\n}\n";
const FREESTYLE = { text: "<project>\n  <description>{{ description }}</description>\n</project>" };

function args(over: Props = {}): Props {
  return {
    btdName: "job",
    url: "http://jenkins.example:8080",
    username: "deploy",
    apiToken: "token-0123",
    name: "team/backtests/nightly",
    jenkinsfile: { text: JENKINSFILE },
    description: { text: "<p>Nightly</p>\n@owner alice" },
    vars: { image: "/filer/envs/a.sqsh" },
    parameters: [{ name: "ENV_IMAGE", default: "/filer/envs/a.sqsh", description: "env image" }],
    pulumiProject: "proj",
    pulumiStack: "prod",
    ...over,
  };
}

async function failuresOf(a: Props): Promise<CheckFailure[]> {
  return (await ops.check({}, a, ctx)).failures ?? [];
}

async function inputsOf(a: Props): Promise<Props> {
  const r = await ops.check({}, a, ctx);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

/** State as create would leave it (jobPath and the read-back hash are what only the ops add). */
async function stateOf(a: Props): Promise<Props> {
  const inputs = await inputsOf(a);
  return { ...inputs, jobPath: inputs.name, jobUrl: "x", configSha256: "0".repeat(64), schemaVersion: 1 };
}

describe("check", () => {
  it("normalizes the url, splits the job path and renders a marked config", async () => {
    const i = await inputsOf(args());
    expect(i.url).toBe("http://jenkins.example:8080/");
    expect(i.folder).toBe("team/backtests");
    expect(i.jobName).toBe("nightly");
    expect(i.rootElement).toBe("flow-definition");
    expect(i.owners).toEqual(["alice"]);
    expect(i.config).toContain("Managed by backtest-deploy (project: proj, stack: prod)");
    expect(i.knownAtDeploy).toBeUndefined();
  });

  it.each([
    ["team/back#tests/nightly", /segment 2 of "team\/back#tests\/nightly": .*"#"/],
    ["team//nightly", /segment 2 .*must not be empty/],
    ["nightly.", /ends with "\."/],
    ["team/..", /".." is not an allowed name/],
  ])("refuses the job path %j, naming the property and the segment", async (name, reason) => {
    const failures = await failuresOf(args({ name }));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.property === "name")).toBe(true);
    expect(failures.map((f) => f.reason).join("\n")).toMatch(reason);
  });

  it("refuses a missing file input, naming the property and the path", async () => {
    const failures = await failuresOf(args({ description: "no/such/description.html" }));
    expect(failures).toEqual([
      {
        property: "description",
        reason: expect.stringMatching(/cannot read "no\/such\/description\.html" \(ENOENT\)/),
      },
    ]);
  });

  it("reports every bad input at once, each under its own property", async () => {
    const failures = await failuresOf(
      args({
        url: "ftp://jenkins",
        name: "a:b",
        adopt: "yes",
        jenkinsfile: 42,
        vars: { name: "x" },
        parameters: [{ name: "A" }, { name: "A", default: {} }],
      }),
    );
    expect(failures.map((f) => f.property).sort()).toEqual(
      [
        "adopt",
        "jenkinsfile",
        "name",
        "parameters[1].default",
        "parameters[1].name",
        "url",
        "vars.name",
      ].sort(),
    );
  });

  it("refuses a url that carries credentials, and requires a url", async () => {
    expect((await failuresOf(args({ url: "http://u:p@jenkins/" }))).map((f) => f.property)).toEqual(["url"]);
    expect((await failuresOf(args({ url: undefined }))).map((f) => f.property)).toEqual(["url"]);
  });

  it("fails on a template without the marker's place, and on an undefined variable with file and line", async () => {
    const noMarker = await failuresOf(
      args({ template: { text: "<project><description>x</description></project>" } }),
    );
    expect(noMarker).toEqual([
      { property: "template", reason: expect.stringMatching(/no ownership marker/) },
    ]);
    const undef = await failuresOf(
      args({
        template: {
          text: "<project>\n<description>{{ description }}</description>\n<x>{{ envImage }}</x></project>",
        },
      }),
    );
    expect(undef).toEqual([
      {
        property: "template",
        reason: expect.stringMatching(/template:3:\d+: "\{\{ envImage \}\}" is undefined/),
      },
    ]);
  });

  it("renders what is known and lists what will be known at deploy", async () => {
    const i = await inputsOf(
      args({
        vars: { image: UNKNOWN },
        parameters: [{ name: "ENV_IMAGE", default: UNKNOWN }],
        jenkinsfile: { text: UNKNOWN },
      }),
    );
    expect(i.knownAtDeploy).toEqual(
      expect.arrayContaining(["jenkinsfile", "vars.image", "parameters[0].defaultValue"]),
    );
    expect(i.config).toContain("[known at deploy: parameters[0].defaultValue]");
    expect(i.config).toContain("[known at deploy: jenkinsfile]");
    expect(i.rootElement).toBe("flow-definition");
  });

  it("accepts an unknown name and an unknown disabled flag in preview (rendered as placeholders)", async () => {
    const i = await inputsOf(args({ name: UNKNOWN, disabled: UNKNOWN }));
    expect(i.knownAtDeploy).toEqual(expect.arrayContaining(["name", "disabled"]));
    expect(i.name).toBe(UNKNOWN);
    expect(i.folder).toBe(UNKNOWN);
    expect(i.jobName).toBe(UNKNOWN);
    expect(i.config).toContain("<disabled>[known at deploy: disabled]</disabled>");
  });
});

describe("diff", () => {
  it("nothing changed: no change, also when Jenkins-style spellings differ", async () => {
    const olds = await stateOf(args());
    const news = await inputsOf(args());
    expect(await ops.diff("id", olds, news, ctx)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    // How Jenkins 2.568+ answers the same job: another declaration, plugin attributes, other indentation.
    const respelled = {
      ...olds,
      config: (olds.config as string)
        .replace("<?xml version='1.1' encoding='UTF-8'?>", '<?xml version="1.0" encoding="UTF-8"?>')
        .replace("<flow-definition>", '<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">')
        .replace("\n  <triggers/>", "\n      <triggers></triggers>"),
    };
    expect(respelled.config).not.toBe(olds.config);
    expect((await ops.diff("id", respelled, news, ctx)).changes).toBe(false);
  });

  it("a changed value is an update in place", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ parameters: [{ name: "ENV_IMAGE", default: "/b.sqsh" }] })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("a new name in the same folder is a rename (an update), not a replace", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ name: "team/backtests/nightly-v2" })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("a new folder is a replace, creating the new job before deleting the old", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ name: "team/live/nightly" })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: ["folder"], deleteBeforeReplace: false });
  });

  it("a new root element under the same name is a replace that deletes the old job first", async () => {
    const d = await ops.diff("id", await stateOf(args()), await inputsOf(args({ template: FREESTYLE })), ctx);
    expect(d).toEqual({ changes: true, replaces: ["rootElement"], deleteBeforeReplace: true });
  });

  it("a new root element and a new name: the names do not clash, so create first", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ template: FREESTYLE, name: "team/backtests/nightly-freestyle" })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: ["rootElement"], deleteBeforeReplace: false });
  });

  it("after a rename, a type change at the job's current path deletes first", async () => {
    const olds = {
      ...(await stateOf(args())),
      name: "team/backtests/old",
      jobPath: "team/backtests/nightly",
    };
    const d = await ops.diff("id", olds, await inputsOf(args({ template: FREESTYLE })), ctx);
    expect(d.replaces).toEqual(["rootElement"]);
    expect(d.deleteBeforeReplace).toBe(true);
  });

  it("a new Jenkins url is a replace", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ url: "http://other:8080/" })),
      ctx,
    );
    expect(d.replaces).toEqual(["url"]);
  });

  it("a rotated token is a change (read and delete use the token kept in state)", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ apiToken: "token-4567" })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("unknown values: a change, but no replace the known values do not call for", async () => {
    const d = await ops.diff(
      "id",
      await stateOf(args()),
      await inputsOf(args({ vars: { image: UNKNOWN } })),
      ctx,
    );
    expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("an unknown name or url may be a new folder or Jenkins: a replace", async () => {
    const name = await ops.diff("id", await stateOf(args()), await inputsOf(args({ name: UNKNOWN })), ctx);
    expect(name.changes).toBe(true);
    expect(name.replaces).toContain("folder");
    const url = await ops.diff("id", await stateOf(args()), await inputsOf(args({ url: UNKNOWN })), ctx);
    expect(url.replaces).toContain("url");
  });
});
