/**
 * CondaSquashEnv through the real Pulumi CLI: the sandbox installer on the
 * local channel, mksquashfs and squashfuse. The installer's invocation log
 * proves what was (not) built.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureChannel, installerPath, readInstallerLog } from "../support/conda/index.ts";
import {
  createProject,
  makeWorkDir,
  type PulumiProject,
  REPO_ROOT,
  resourcesOfType,
} from "../support/pulumi/harness.ts";

const PROGRAM = join(REPO_ROOT, "test/e2e/programs/conda-env.ts");
const TYPE = "pulumi-nodejs:dynamic/backtest:CondaSquashEnv";

describe("CondaSquashEnv lifecycle", () => {
  let root: string;
  let project: PulumiProject;
  let log: string;
  let env: Record<string, string>;
  let channel: string;
  let channelAlias: string;

  const installs = async () =>
    (await readInstallerLog(log)).filter((argv) => argv[0] === "create" || argv[0] === "env").length;
  const imagesIn = async (dir: string) =>
    existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith(".sqsh")) : [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "btd-conda-e2e-"));
    const dir = await ensureChannel();
    channel = `file://${dir}`;
    // The same packages under another channel URL: a channel change that still solves.
    await symlink(dir, join(root, "mirror"));
    channelAlias = `file://${join(root, "mirror")}`;
    log = join(root, "installer.log");
    env = {
      BTD_TEST_CHANNELS: channel,
      BTD_TEST_INSTALLER: installerPath,
      BTD_TEST_PREFIX_ROOT: join(root, "envs"),
      BTD_CONDA_WORK_DIR: join(root, "work"),
      RATTLER_MAMBA_LOG: log,
    };
    project = await createProject({ projectName: "conda-env", programModule: PROGRAM, env });
  });
  afterAll(async () => {
    await project?.destroy({ allowFailure: true });
    await project?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it("preview builds nothing; up builds, smoke-tests and publishes the image", async () => {
    expect((await project.preview()).steps).toEqual({ env: "create" });
    expect(await installs()).toBe(0);
    const r = await project.up();
    expect(r.steps).toEqual({ env: "create" });
    expect(await installs()).toBe(1);
    const [res] = resourcesOfType(await project.exportState(), TYPE);
    expect(res?.outputs?.prefix).toBe(join(root, "envs", "meanrev-1.0.0-py311"));
    expect(res?.outputs?.installerVersion).toMatch(/^\d+\.\d+/);
    expect(res?.outputs?.lock).toMatch(/@EXPLICIT/);
    expect(await imagesIn(join(root, "work"))).toEqual([
      expect.stringMatching(/^meanrev-1\.0\.0-py311-[0-9a-f]{12}\.sqsh$/),
    ]);
    expect(r.diagnostics.join("\n")).toMatch(/CondaSquashEnv env (install|squash|smoke)/);
  });

  it("a second up invokes the installer zero times", async () => {
    const before = (await readInstallerLog(log)).length;
    const r = await project.up({ expectNoChanges: true });
    expect(r.steps).toEqual({ env: "same" });
    expect((await readInstallerLog(log)).length).toBe(before);
  });

  it("a fresh checkout without the local image previews and deploys a no-op", async () => {
    const other = await makeWorkDir("btd-conda-second-");
    const second = await createProject({
      projectName: "conda-env",
      programModule: PROGRAM,
      workDir: other,
      backendUrl: project.backendUrl,
      env: { ...env, BTD_CONDA_WORK_DIR: join(root, "work-fresh-runner") },
    });
    try {
      const before = (await readInstallerLog(log)).length;
      expect((await second.preview({ expectNoChanges: true })).steps).toEqual({ env: "same" });
      expect((await second.up({ expectNoChanges: true })).steps).toEqual({ env: "same" });
      expect((await readInstallerLog(log)).length).toBe(before);
      expect(await imagesIn(join(root, "work-fresh-runner"))).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it("a version bump replaces and removes the old local image", async () => {
    const [old] = await imagesIn(join(root, "work"));
    const r = await project.up({ env: { BTD_TEST_MEANREV_VERSION: "1.1.0" } });
    expect(r.steps).toEqual({ env: "replace" });
    const images = await imagesIn(join(root, "work"));
    expect(images).toEqual([expect.stringMatching(/^meanrev-1\.1\.0-py311-/)]);
    expect(images).not.toContain(old);
  });

  it("a channel change at the same prefix replaces cleanly (old build first)", async () => {
    const flags = { env: { BTD_TEST_MEANREV_VERSION: "1.1.0", BTD_TEST_CHANNELS: channelAlias } };
    const [old] = await imagesIn(join(root, "work"));
    const preview = await project.preview(flags);
    expect(preview.steps).toEqual({ env: "replace" });
    const r = await project.up(flags);
    expect(r.steps).toEqual({ env: "replace" });
    const [res] = resourcesOfType(await project.exportState(), TYPE);
    expect(res?.outputs?.channels).toEqual([channelAlias]);
    const images = await imagesIn(join(root, "work"));
    expect(images).toHaveLength(1);
    expect(images).not.toContain(old);
    // deleteBeforeReplace: the old delete ran before the new create at the same prefix.
    const ops = r.events
      .map((e) => e.resourcePreEvent?.metadata.op)
      .filter((op) => op === "delete-replaced" || op === "create-replacement");
    expect(ops).toEqual(["delete-replaced", "create-replacement"]);
  });

  it("destroy removes the local image and leaves the prefix root empty", async () => {
    await project.destroy({ env: { BTD_TEST_MEANREV_VERSION: "1.1.0", BTD_TEST_CHANNELS: channelAlias } });
    expect(await imagesIn(join(root, "work"))).toEqual([]);
    expect(existsSync(join(root, "envs")) ? await readdir(join(root, "envs")) : []).toEqual([]);
  });
});
