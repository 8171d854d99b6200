/**
 * A CI runner killed in the middle of `pulumi up` (SIGKILL of its whole
 * process tree) during an env build, an upload and a Jenkins write, on the
 * shared PostgreSQL backend. Each time the stack's lock is left behind and
 * refuses the next deploy; another runner follows docs/team-setup.md
 * (`pulumi cancel`, `pulumi refresh --clear-pending-creates`, `pulumi up`)
 * and converges: nothing is created twice and nothing is orphaned, which
 * btd-inventory confirms; a file dropped on the filer by hand is the one
 * orphan it finds and the only file it deletes.
 */
import { chmod, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSPHRASE, REPO_ROOT, resourcesOfType } from "../support/pulumi/harness.ts";
import { pulumiCli, startInBackground, waitUntil } from "../support/team/background.ts";
import {
  EXAMPLE_PROJECT,
  type Runner,
  startTeamSandbox,
  TEAM_DATABASE,
  type TeamSandbox,
} from "../support/team/sandbox.ts";
import { lockKeys, stateRows } from "../support/team/state-table.ts";

const ARTIFACT = "pulumi-nodejs:dynamic/backtest:FilerArtifact";
const FOLDER = "com.cloudbees.hudson.plugins.folder.Folder";
const INVENTORY = join(REPO_ROOT, "dist/provider/cli/btd-inventory.js");
const STACK_ID = (s: string) => `organization/${EXAMPLE_PROJECT}/${s}`;

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

describe("recovery from a runner killed mid-deploy", () => {
  let t: TeamSandbox;
  let r1: Runner;
  let r2: Runner;

  const locks = async (stack: string) =>
    lockKeys(await stateRows(t.pg, TEAM_DATABASE), EXAMPLE_PROJECT, stack);
  const creates = async () => (await t.installerCalls()).filter((argv) => argv.includes("create")).length;
  const jobsOnly = () =>
    [...t.jenkins.jobs().entries()]
      .filter(([, j]) => j.type !== FOLDER)
      .map(([k]) => k)
      .sort();
  const startUp = (stack: "a" | "b" | "live", env?: Record<string, string>) =>
    startInBackground(r1.stack(stack), "up", {
      projectName: EXAMPLE_PROJECT,
      programModule: r1.programModule,
      env,
    });

  /** After the kill: the stale lock refuses the next deploy, and nothing cleared it on its own. */
  async function expectStaleLock(stack: "a" | "b" | "live") {
    expect(await locks(stack)).toHaveLength(1);
    const refused = await r2.stack(stack).up({ allowFailure: true });
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain("the stack is currently locked by 1 lock(s)");
    expect(refused.output).toContain("pulumi cancel");
    expect(await locks(stack)).toHaveLength(1);
  }

  /** The recovery steps of docs/team-setup.md, run on another runner. */
  async function recover(stack: "a" | "b" | "live") {
    const p = r2.stack(stack);
    const cancel = await pulumiCli(p, ["cancel", "--yes", "--stack", stack]);
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(await locks(stack)).toEqual([]);
    const refresh = await pulumiCli(p, ["refresh", "--clear-pending-creates", "--yes", "--stack", stack]);
    expect(refresh.exitCode, `${refresh.stdout}\n${refresh.stderr}`).toBe(0);
    expect((await p.exportState()).deployment.pending_operations ?? []).toEqual([]);
    const up = await p.up();
    const state = await p.exportState();
    expect(state.deployment.pending_operations ?? []).toEqual([]);
    expect(await locks(stack)).toEqual([]);
    // Converged: one more up changes nothing.
    await p.up({ expectNoChanges: true });
    return { up, state };
  }

  beforeAll(async () => {
    t = await startTeamSandbox();
    r1 = await t.runner("r1");
    await r1.live.init();
    await r1.a.init();
    await r1.b.init();
    r2 = await t.runner("r2", r1);
  });

  afterAll(async () => {
    t?.jenkins.faults.clear();
    await t?.stop();
  });

  it("killed during the env build: the next runner rebuilds and deploys slot a once", async () => {
    const before = await creates();
    const up = await startUp("a");
    await waitUntil("the installer's create call", async () => (await creates()) > before, 180_000);
    await up.kill();
    expect((await up.done).ok).toBe(false);
    // The next runner is another machine: the dead runner's disk (its half-built prefix) is gone
    // with it. The runners of this sandbox share one machine, so remove it as the machine's loss would.
    await rm(join(t.root, "local/envs/a"), { recursive: true, force: true });
    await expectStaleLock("a");

    const { up: done, state } = await recover("a");
    expect(done.steps).toMatchObject({ env: "create", image: "create", "test-job": "create" });
    const image = String(done.outputs?.imageName?.value);
    expect(await filesIn(join(t.filer.root, "envs/a"))).toEqual([image]);
    expect(jobsOnly()).toEqual(["meanrev/slot-a/backtest-test"]);
    expect(resourcesOfType(state, ARTIFACT)).toHaveLength(1);
  });

  it("killed during the upload: the next runner uploads again, no partial file is left", async () => {
    const up = await startUp("b", { BTD_FILER_BWLIMIT_KIB: "512" });
    // rsync writes a dot-prefixed temp file and renames it when complete.
    await waitUntil(
      "the upload's temp file appears",
      async () => (await filesIn(join(t.filer.root, "envs/b"))).some((n) => n.startsWith(".")),
      180_000,
    );
    await up.kill();
    await expectStaleLock("b");

    const { up: done } = await recover("b");
    expect(done.steps).toMatchObject({ image: "create", "test-job": "create" });
    const image = String(done.outputs?.imageName?.value);
    expect(await filesIn(join(t.filer.root, "envs/b"))).toEqual([image]);
    const { stdout } = await execa("sha256sum", [join(t.filer.root, "envs/b", image)]);
    expect(stdout.split(" ")[0]).toBe(done.outputs?.sha256?.value);
    expect(jobsOnly()).toEqual(["meanrev/slot-a/backtest-test", "meanrev/slot-b/backtest-test"]);
  });

  it("killed during a Jenkins write: the job the dead runner created is taken over, not duplicated", async () => {
    const createProd = /\/job\/prod\/createItem$/;
    // Reads of the job are slow, so the runner is still inside the job's create (reading back
    // what Jenkins stored) when its createItem has landed: the job exists, no state records it.
    t.jenkins.faults.setLatency(8_000, { method: "GET", path: "/job/prod/job/backtest/config.xml" });
    t.jenkins.clearRequestLog();
    const up = await startUp("live");
    await waitUntil(
      "Jenkins stores the production job",
      () => t.jenkins.config("meanrev/prod/backtest") !== undefined,
      180_000,
      50,
    );
    await up.kill();
    t.jenkins.faults.setLatency(0);
    expect(t.jenkins.requests().filter((r) => r.method === "POST" && createProd.test(r.path))).toHaveLength(
      1,
    );
    expect(resourcesOfType(await r2.live.exportState(), "pulumi-nodejs:dynamic/backtest:JenkinsJob")).toEqual(
      [],
    );
    await expectStaleLock("live");

    t.jenkins.clearRequestLog();
    const { up: done } = await recover("live");
    expect(done.steps["prod-job"]).toBe("create");
    expect(jobsOnly()).toEqual([
      "meanrev/prod/backtest",
      "meanrev/slot-a/backtest-test",
      "meanrev/slot-b/backtest-test",
    ]);
    // Taken over by its marker: no second createItem.
    expect(done.output).toContain("took over existing job meanrev/prod/backtest");
    expect(t.jenkins.requests().filter((r) => r.method === "POST" && createProd.test(r.path))).toEqual([]);
    const image = String((await r2.a.outputs()).imageRemotePath?.value);
    expect(t.jenkins.config("meanrev/prod/backtest")).toContain(join(t.filer.root, image));
  });

  describe("btd-inventory", () => {
    let keyFile: string;
    const inventory = (args: string[]) =>
      execa("node", [INVENTORY, ...args], {
        cwd: t.root,
        reject: false,
        env: {
          PULUMI_BACKEND_URL: t.backendUrl,
          PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
          PULUMI_HOME: join(t.root, "inventory-home"),
        },
      });

    beforeAll(async () => {
      keyFile = join(t.root, "deploy-key");
      await writeFile(keyFile, t.filer.privateKey);
      await chmod(keyFile, 0o600);
    });

    it("finds every deployed file with its owner and no orphan after the recoveries", async () => {
      const r = await inventory(["--key-file", keyFile]);
      expect(r.exitCode, r.stderr).toBe(0);
      const a = String((await r2.a.outputs()).imageRemotePath?.value);
      const b = String((await r2.b.outputs()).imageRemotePath?.value);
      expect(r.stdout).toMatch(
        new RegExp(`owned .* ${a} \\(\\d+ bytes\\): ${STACK_ID("a")} FilerArtifact image`),
      );
      expect(r.stdout).toMatch(
        new RegExp(`owned .* ${b} \\(\\d+ bytes\\): ${STACK_ID("b")} FilerArtifact image`),
      );
      expect(r.stdout).toMatch(
        new RegExp(`owned .* envs/current -> a/\\S+: ${STACK_ID("live")} FilerLink current`),
      );
      expect(r.stdout).toContain("3 file(s), 0 orphan(s)");
      expect(r.stdout).not.toContain("ORPHAN");
    });

    it("flags a file dropped by hand and deletes only it", async () => {
      const stray = "envs/a/meanrev-0.9.0-py311-0123456789ab.sqsh";
      await writeFile(join(t.filer.root, stray), "left here by hand");
      const before = await readdir(join(t.filer.root, "envs"), { recursive: true });

      const listed = await inventory(["--key-file", keyFile]);
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`ORPHAN .* ${stray} \\(17 bytes\\): no stack owns it`));
      expect(listed.stdout).toContain("4 file(s), 1 orphan(s)");

      // No terminal and no --yes: nobody can confirm, so nothing is deleted.
      const refused = await inventory(["--key-file", keyFile, "--delete-orphans"]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("needs --yes");
      expect(await readdir(join(t.filer.root, "envs"), { recursive: true })).toEqual(before);

      const deleted = await inventory(["--delete-orphans", "--yes"].concat(["--key-file", keyFile]));
      expect(deleted.exitCode, deleted.stderr).toBe(0);
      expect(deleted.stdout).toContain(`will delete 1 orphan(s):`);
      expect(deleted.stdout).toContain(`deleted ${t.filer.user}@${t.filer.host}:${t.filer.port} ${stray}`);
      expect((await readdir(join(t.filer.root, "envs"), { recursive: true })).sort()).toEqual(
        before.filter((p) => p !== stray.replace(/^envs\//, "")).sort(),
      );
      const again = await inventory(["--key-file", keyFile]);
      expect(again.stdout).toContain("3 file(s), 0 orphan(s)");
    });
  });
});
