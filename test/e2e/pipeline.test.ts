/**
 * The whole story of the example pipeline, through the real Pulumi CLI against
 * the real sandbox: a team's copy of examples/backtest-pipeline deploys slot a,
 * makes it live, no-ops, refuses to touch the slot in service, deploys the
 * bumped version to slot b, keeps everything when a switch's verify fails,
 * switches, rolls back, replaces the idle slot's env (old image gone) and
 * destroys, asserting on the filer, the mounted env, Jenkins and the state.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeEventLog } from "../../provider/summary/main.ts";
import { ensureChannel, installerPath } from "../support/conda/index.ts";
import { type Filer, type MountedImage, mountImage, startFiler } from "../support/filer/index.ts";
import { filesUnder } from "../support/files.ts";
import { type JenkinsStandIn, startJenkins } from "../support/jenkins/index.ts";
import { copyExample, type PipelineStacks, pipelineStacks } from "../support/pipeline/stacks.ts";
import { REPO_ROOT, resourcesOfType } from "../support/pulumi/harness.ts";
import { sandboxInfoOf } from "../support/sandbox/info.ts";

const EXAMPLE = join(REPO_ROOT, "examples/backtest-pipeline");
const ENV_TYPE = "pulumi-nodejs:dynamic/backtest:CondaSquashEnv";
const PROD_JOB = "meanrev/prod/backtest";
const TEST_JOB_A = "meanrev/slot-a/backtest-test";

function parameterDefault(configXml: string | undefined, name: string): string | undefined {
  const m = configXml?.match(
    new RegExp(`<name>${name}</name>[\\s\\S]*?<defaultValue>([^<]*)</defaultValue>`),
  );
  return m?.[1];
}

describe("the example pipeline, end to end", () => {
  let filer: Filer;
  let jenkins: JenkinsStandIn;
  let root: string;
  let project: string;
  let installerLog: string;
  let stacks: PipelineStacks;
  let mounted: MountedImage | undefined;

  const installerCalls = async () =>
    (await readFile(installerLog, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
  const jenkinsWrites = () => jenkins.requests().filter((r) => r.write);
  const setPinnedVersion = (version: string) =>
    readFile(join(EXAMPLE, "environment.yml"), "utf8").then((text) =>
      writeFile(join(project, "environment.yml"), text.replace(/meanrev=\S+/, `meanrev=${version}`)),
    );

  beforeAll(async () => {
    const channel = await ensureChannel();
    [filer, jenkins] = await Promise.all([startFiler(), startJenkins()]);
    root = await mkdtemp(join(tmpdir(), "btd-pipeline-"));
    // A team's copy of the example, in a checkout folder of its own.
    project = join(root, "checkout", "deploy");
    await copyExample(project);
    installerLog = join(root, "installer.log");
    stacks = await pipelineStacks({
      workDir: project,
      programModule: join(project, "index.ts"),
      backendUrl: `file://${join(root, "backend")}`,
      sandbox: sandboxInfoOf(filer, jenkins, { channel, installer: installerPath }),
      localRoot: join(root, "local"),
      env: { RATTLER_MAMBA_LOG: installerLog, BTD_MOUNT_STATE_DIR: join(root, "mounts") },
    });
    await mkdir(join(root, "backend"), { recursive: true });
    await stacks.live.init();
  });

  afterAll(async () => {
    await mounted?.unmount();
    await Promise.allSettled([filer?.stop(), jenkins?.stop(), stacks?.dispose()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("previews slot a without building, uploading or writing to Jenkins", async () => {
    const r = await stacks.a.preview();
    expect(r.steps).toMatchObject({ env: "create", image: "create", "test-job": "create" });
    expect(await installerCalls()).toBe(0);
    expect(await filer.commandLog()).toEqual([]);
    expect(jenkinsWrites()).toEqual([]);
  });

  it("deploys slot a: image on the filer, test job in Jenkins, versions in state", async () => {
    const r = await stacks.a.up();
    const out = (k: string) => String(r.outputs?.[k]?.value);
    expect(out("version")).toBe("1.0.0");
    const onFiler = join(filer.root, out("imageRemotePath"));
    expect(out("imageRemotePath")).toMatch(/^envs\/a\/meanrev-1\.0\.0-py311-[0-9a-f]{12}\.sqsh$/);
    const { stdout } = await execa("sha256sum", [onFiler]);
    expect(stdout.split(" ")[0]).toBe(out("sha256"));
    const testJob = jenkins.config(TEST_JOB_A);
    expect(parameterDefault(testJob, "ENV_IMAGE")).toBe(onFiler);
    expect(parameterDefault(testJob, "PUBLISH")).toBe("false");
    const [env] = resourcesOfType(await stacks.a.exportState(), ENV_TYPE);
    const packages = env?.outputs?.packages as { name: string; version: string }[];
    expect(packages.find((p) => p.name === "meanrev")?.version).toBe("1.0.0");
  });

  it("the image on the filer, mounted at its prefix, runs the project", async () => {
    const outputs = await stacks.a.outputs();
    const prefix = String(outputs.prefix?.value);
    mounted = await mountImage(join(filer.root, String(outputs.imageRemotePath?.value)), prefix);
    const results = join(root, "results-a");
    const run = await execa(join(prefix, "bin/meanrev-backtest"), ["--days", "60", "--output", results], {
      env: { PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(run.stdout).toMatch(/^meanrev 1\.0\.0: days=60 /);
    await mounted.unmount();
    mounted = undefined;
  });

  it("makes slot a live: verified link flip and production job rendered from slot a", async () => {
    const r = await stacks.live.up();
    expect(r.outputs?.liveSlot?.value).toBe("a");
    const image = String((await stacks.a.outputs()).imageRemotePath?.value);
    expect((await readdir(join(filer.root, "envs"))).sort()).toEqual(["a", "current"]);
    expect(await execa("readlink", [join(filer.root, "envs/current")]).then((p) => p.stdout)).toBe(
      image.replace(/^envs\//, ""),
    );
    expect(parameterDefault(jenkins.config(PROD_JOB), "ENV_IMAGE")).toBe(join(filer.root, image));
    expect(parameterDefault(jenkins.config(PROD_JOB), "PUBLISH")).toBe("true");
  });

  it("a second up of every stack changes nothing and sends nothing", async () => {
    const calls = await installerCalls();
    await filer.clearCommandLog();
    jenkins.clearRequestLog();
    for (const s of [stacks.a, stacks.live]) {
      const r = await s.up({ expectNoChanges: true });
      expect(Object.values(r.steps).every((op) => op === "same" || op === "read")).toBe(true);
    }
    expect(await installerCalls()).toBe(calls);
    expect(await filer.commandLog()).toEqual([]);
    expect(jenkinsWrites()).toEqual([]);
  });

  it("refuses to change the env of the slot in service", async () => {
    await setPinnedVersion("1.1.0");
    const before = await filesUnder(filer.root);
    const r = await stacks.a.preview({ allowFailure: true });
    expect(r.ok).toBe(false);
    expect(r.output).toContain("slot a is in service");
    expect(r.output).toContain("pulumi up -s b");
    expect(await filesUnder(filer.root)).toEqual(before);
  });

  it("deploys the bumped version to the idle slot b", async () => {
    const r = await stacks.b.up();
    expect(r.outputs?.version?.value).toBe("1.1.0");
    expect(await filesUnder(join(filer.root, "envs/b"))).toHaveLength(1);
    // Production is untouched.
    expect(parameterDefault(jenkins.config(PROD_JOB), "ENV_IMAGE")).toContain("/envs/a/");
  });

  it("a switch whose verify fails changes nothing", async () => {
    const link = (await execa("readlink", [join(filer.root, "envs/current")])).stdout;
    const prod = jenkins.config(PROD_JOB);
    jenkins.clearRequestLog();
    stacks.setLiveConfig("verifyCommand", "echo 'results do not pass' >&2; exit 3");
    stacks.setLiveSlot("b");
    const r = await stacks.live.up({ allowFailure: true });
    expect(r.ok).toBe(false);
    expect(r.output).toContain("results do not pass");
    expect((await execa("readlink", [join(filer.root, "envs/current")])).stdout).toBe(link);
    expect(jenkins.config(PROD_JOB)).toBe(prod);
    expect(jenkinsWrites()).toEqual([]);
  });

  it("switches to b, then rolls back to a, one config change each", async () => {
    stacks.setLiveConfig("verifyCommand", "");
    stacks.setLiveSlot("b");
    await stacks.live.up();
    expect((await execa("readlink", [join(filer.root, "envs/current")])).stdout).toMatch(
      /^b\/meanrev-1\.1\.0-/,
    );
    expect(parameterDefault(jenkins.config(PROD_JOB), "ENV_IMAGE")).toContain("/envs/b/meanrev-1.1.0-");
    stacks.setLiveSlot("a");
    await stacks.live.up();
    expect((await execa("readlink", [join(filer.root, "envs/current")])).stdout).toMatch(
      /^a\/meanrev-1\.0\.0-/,
    );
    expect(parameterDefault(jenkins.config(PROD_JOB), "ENV_IMAGE")).toContain("/envs/a/meanrev-1.0.0-");
  });

  it("the merge-request summary of a version bump lists the replaced env and the job diff", async () => {
    stacks.setLiveSlot("b");
    await stacks.live.up();
    const r = await stacks.a.preview();
    expect(r.steps.env).toBe("replace");
    const md = summarizeEventLog(r.events.map((e) => JSON.stringify(e)).join("\n"));
    expect(md).toMatch(/replace.*CondaSquashEnv.*env/);
    expect(md).toMatch(/meanrev.*1\.0\.0.*1\.1\.0/);
    // Installed before, asked for by environment.yml after.
    expect(md).toContain("| meanrev | 1.0.0 | 1.1.0 ⬅ |");
    expect(md).toContain("```diff");
    expect(md).toContain("test-job");
  });

  it("replacing the idle slot's env deletes its old image after the new one exists", async () => {
    const old = String((await stacks.a.outputs()).imageRemotePath?.value);
    const r = await stacks.a.up();
    const now = String(r.outputs?.imageRemotePath?.value);
    expect(now).toMatch(/^envs\/a\/meanrev-1\.1\.0-py311-/);
    expect(await filesUnder(join(filer.root, "envs/a"))).toEqual([now.replace("envs/a/", "")]);
    expect(old).not.toBe(now);
    const [env] = resourcesOfType(await stacks.a.exportState(), ENV_TYPE);
    const packages = env?.outputs?.packages as { name: string; version: string }[];
    expect(packages.find((p) => p.name === "meanrev")?.version).toBe("1.1.0");
  });

  it("destroy leaves nothing on the filer, in Jenkins or in state", async () => {
    for (const s of [stacks.live, stacks.a, stacks.b]) await s.destroy();
    expect(await filesUnder(filer.root)).toEqual([]);
    const jobs = [...jenkins.jobs().entries()].filter(
      ([, j]) => j.type !== "com.cloudbees.hudson.plugins.folder.Folder",
    );
    expect(jobs).toEqual([]);
    for (const s of [stacks.live, stacks.a, stacks.b]) {
      const state = await s.exportState();
      expect((state.deployment.resources ?? []).filter((x) => x.type.startsWith("pulumi-nodejs:"))).toEqual(
        [],
      );
    }
  });
});
