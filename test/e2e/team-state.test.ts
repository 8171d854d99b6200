/**
 * A team's deploys from several CI runners against one PostgreSQL backend:
 * slots a and b and the live stack in one database (live reads the slot in
 * service through a stack reference). Two deploys of one stack started
 * together: one applies, the other is refused by the stack's lock and changes
 * nothing, and a retry converges with no change; a deploy of another stack
 * runs alongside. Then live, a no-op from another runner, the secret scan of
 * every row of the state table, and destroy.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filesUnder } from "../support/files.ts";
import { resourcesOfType } from "../support/pulumi/harness.ts";
import { startInBackground, waitUntil } from "../support/team/background.ts";
import {
  EXAMPLE_PROJECT,
  type Runner,
  startTeamSandbox,
  TEAM_DATABASE,
  type TeamSandbox,
} from "../support/team/sandbox.ts";
import { findSecrets, lockKeys, stateRows } from "../support/team/state-table.ts";

const ARTIFACT = "pulumi-nodejs:dynamic/backtest:FilerArtifact";
const JOB = "pulumi-nodejs:dynamic/backtest:JenkinsJob";
const FOLDER = "com.cloudbees.hudson.plugins.folder.Folder";

describe("team deploys on a shared PostgreSQL backend", () => {
  let t: TeamSandbox;
  let r1: Runner;
  let r2: Runner;

  const locks = async (stack: string) =>
    lockKeys(await stateRows(t.pg, TEAM_DATABASE), EXAMPLE_PROJECT, stack);
  const creates = async () => (await t.installerCalls()).filter((argv) => argv.includes("create")).length;
  const jobsOnly = () => [...t.jenkins.jobs().entries()].filter(([, j]) => j.type !== FOLDER).map(([k]) => k);

  beforeAll(async () => {
    t = await startTeamSandbox();
    r1 = await t.runner("r1");
    await r1.live.init();
    await r1.a.init();
    r2 = await t.runner("r2", r1);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("two deploys of slot a: one applies, the other is refused and changes nothing; slot b deploys alongside", async () => {
    // The upload is throttled so the first deploy still holds the lock when the others start.
    const first = await startInBackground(r1.a, "up", {
      projectName: EXAMPLE_PROJECT,
      programModule: r1.programModule,
      env: { BTD_FILER_BWLIMIT_KIB: "256" },
    });
    const held = await waitUntil("the first deploy holds the lock of a", async () => {
      const k = await locks("a");
      return k.length === 1 ? k : undefined;
    });
    const slotBRun = r2.b.up();
    const refused = await r2.a.up({ allowFailure: true });
    // Checked at once, while the throttled first deploy is still uploading:
    // the refusal neither took nor broke its lock.
    expect(await locks("a")).toEqual(held);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain("the stack is currently locked by 1 lock(s)");
    expect(refused.steps).toEqual({});
    const slotB = await slotBRun;
    expect(slotB.outputs?.imageRemotePath?.value).toMatch(
      /^envs\/b\/meanrev-1\.0\.0-py311-[0-9a-f]{12}\.sqsh$/,
    );

    const won = await first.done;
    expect(won.ok, won.output).toBe(true);
    expect(won.steps).toMatchObject({ env: "create", image: "create", "test-job": "create" });
    expect(await locks("a")).toEqual([]);
    // Each slot built once, uploaded once, got one job.
    expect(await creates()).toBe(2);
    expect(await filesUnder(join(t.filer.root, "envs/a"))).toEqual([String(won.outputs?.imageName?.value)]);
    expect(await filesUnder(join(t.filer.root, "envs/b"))).toHaveLength(1);
    expect(jobsOnly().sort()).toEqual(["meanrev/slot-a/backtest-test", "meanrev/slot-b/backtest-test"]);
    const createItems = t.jenkins
      .requests()
      .filter(
        (r) => r.method === "POST" && r.path.endsWith("/createItem") && r.query.includes("backtest-test"),
      );
    expect(createItems).toHaveLength(2);
    const state = await r2.a.exportState();
    expect(resourcesOfType(state, ARTIFACT).map((r) => r.outputs?.remotePath)).toEqual([
      won.outputs?.imageRemotePath?.value,
    ]);
    expect(state.deployment.pending_operations ?? []).toEqual([]);
  });

  it("the refused runner's retry after the first deploy ends changes nothing", async () => {
    const calls = await creates();
    await t.filer.clearCommandLog();
    t.jenkins.clearRequestLog();
    const r = await r2.a.up({ expectNoChanges: true });
    expect(Object.values(r.steps).every((op) => op === "same" || op === "read")).toBe(true);
    expect(await creates()).toBe(calls);
    expect(await t.filer.commandLog()).toEqual([]);
    expect(t.jenkins.requests().filter((x) => x.write)).toEqual([]);
  });

  it("live reads slot a from the same database through a stack reference", async () => {
    const r = await r1.live.up();
    expect(r.outputs?.liveSlot?.value).toBe("a");
    const image = String((await r2.a.outputs()).imageRemotePath?.value);
    expect(r.outputs?.imageOnHosts?.value).toBe(join(t.filer.root, image));
    const link = await readdir(join(t.filer.root, "envs"));
    expect(link.sort()).toEqual(["a", "b", "current"]);
    expect(t.jenkins.config("meanrev/prod/backtest")).toContain(join(t.filer.root, image));
    // Stack references need no file on the runner: the slots are only in PostgreSQL.
    expect((await stateRows(t.pg, TEAM_DATABASE)).map((x) => x.key)).toEqual(
      expect.arrayContaining([
        `${TEAM_DATABASE}/.pulumi/stacks/${EXAMPLE_PROJECT}/a.json`,
        `${TEAM_DATABASE}/.pulumi/stacks/${EXAMPLE_PROJECT}/b.json`,
        `${TEAM_DATABASE}/.pulumi/stacks/${EXAMPLE_PROJECT}/live.json`,
      ]),
    );
  });

  it("another runner's up of every stack is a no-op", async () => {
    const calls = await creates();
    await t.filer.clearCommandLog();
    t.jenkins.clearRequestLog();
    for (const s of [r2.live, r2.b]) {
      const r = await s.up({ expectNoChanges: true });
      expect(Object.values(r.steps).every((op) => op === "same" || op === "read")).toBe(true);
    }
    expect(await creates()).toBe(calls);
    expect(await t.filer.commandLog()).toEqual([]);
    expect(t.jenkins.requests().filter((x) => x.write)).toEqual([]);
  });

  it("no row of the state table holds the SSH private key or the Jenkins token in any spelling", async () => {
    const rows = await stateRows(t.pg, TEAM_DATABASE);
    // The scan reads real checkpoints: decoded rows hold the deployed resources.
    const checkpoint = rows.find((r) => r.key.endsWith(`/stacks/${EXAMPLE_PROJECT}/a.json`));
    expect(checkpoint?.decoded).toContain(ARTIFACT);
    expect(checkpoint?.decoded).toContain(JOB);
    const secrets = { sshPrivateKey: t.filer.privateKey, jenkinsToken: t.jenkins.admin.apiToken };
    expect(findSecrets(rows, secrets)).toEqual([]);
    // The scanner itself finds each spelling it claims to look for.
    const planted = [
      { key: "plain", raw: "{}", decoded: `x${t.filer.privateKey}x` },
      {
        key: "b64",
        raw: JSON.stringify({ data: Buffer.from(t.jenkins.admin.apiToken).toString("base64") }),
        decoded: "",
      },
      { key: "hex", raw: "{}", decoded: Buffer.from(t.jenkins.admin.apiToken).toString("hex") },
      { key: "line", raw: "{}", decoded: `"${t.filer.privateKey.split("\n")[2]}"` },
    ];
    expect(new Set(findSecrets(planted, secrets).map((h) => h.key))).toEqual(
      new Set(["plain", "b64", "hex", "line"]),
    );
  });

  it("destroy leaves nothing on the filer, in Jenkins, in state or in the lock table", async () => {
    for (const s of [r2.live, r2.a, r2.b]) await s.destroy();
    expect(await filesUnder(t.filer.root)).toEqual([]);
    expect(jobsOnly()).toEqual([]);
    for (const s of [r1.live, r1.a, r1.b]) {
      const state = await s.exportState();
      expect((state.deployment.resources ?? []).filter((x) => x.type.startsWith("pulumi-nodejs:"))).toEqual(
        [],
      );
    }
    const keys = (await stateRows(t.pg, TEAM_DATABASE)).map((x) => x.key);
    expect(keys.filter((k) => k.includes("/.pulumi/locks/"))).toEqual([]);
  });
});
