/**
 * The sandbox of a team that deploys from many CI runners: one PostgreSQL
 * database as the Pulumi backend for every stack, one filer, one Jenkins, one
 * conda channel, and any number of "runners", each a checkout of the example
 * pipeline in a folder of its own (same stack files, same passphrase, same
 * env prefixes; its own conda work folder, like a fresh CI machine).
 */
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureChannel, installerPath } from "../conda/index.ts";
import { type Filer, startFiler } from "../filer/index.ts";
import { type JenkinsStandIn, startJenkins } from "../jenkins/index.ts";
import { copyExample, EXAMPLE_PROJECT, type PipelineStacks, pipelineStacks } from "../pipeline/stacks.ts";
import { type Postgres, startPostgres } from "../postgres/index.ts";
import { REPO_ROOT } from "../pulumi/harness.ts";
import { type SandboxInfo, sandboxInfoOf } from "../sandbox/info.ts";

export const EXAMPLE = join(REPO_ROOT, "examples/backtest-pipeline");
export const TEAM_DATABASE = "pulumi";
export { EXAMPLE_PROJECT };

export interface Runner extends PipelineStacks {
  name: string;
  /** The checkout folder: Pulumi.yaml, index.ts, the stack files. */
  workDir: string;
  programModule: string;
}

export interface TeamSandbox {
  root: string;
  pg: Postgres;
  filer: Filer;
  jenkins: JenkinsStandIn;
  backendUrl: string;
  installerLog: string;
  info: SandboxInfo;
  /** Installer invocations so far (argv arrays). */
  installerCalls(): Promise<string[][]>;
  /**
   * A new runner with its own checkout. `from` copies another runner's stack
   * files (config and encryption salt), as a CI checkout of the team's repo has them.
   */
  runner(name: string, from?: Runner): Promise<Runner>;
  stop(): Promise<void>;
}

export async function startTeamSandbox(): Promise<TeamSandbox> {
  const channel = await ensureChannel();
  const [pg, filer, jenkins] = await Promise.all([startPostgres(), startFiler(), startJenkins()]);
  await pg.createDatabase(TEAM_DATABASE);
  const root = await mkdtemp(join(tmpdir(), "btd-team-"));
  const installerLog = join(root, "installer.log");
  const backendUrl = pg.backendUrl(TEAM_DATABASE);
  const info = sandboxInfoOf(filer, jenkins, { channel, installer: installerPath });
  const runners: PipelineStacks[] = [];
  const runner = async (name: string, from?: Runner): Promise<Runner> => {
    const workDir = join(root, name, "checkout", "deploy");
    await copyExample(workDir);
    if (from) {
      for (const f of await readdir(from.workDir)) {
        if (/^Pulumi\.[^.]+\.yaml$/.test(f)) await cp(join(from.workDir, f), join(workDir, f));
      }
    }
    const programModule = join(workDir, "index.ts");
    const stacks = await pipelineStacks({
      workDir,
      programModule,
      backendUrl,
      sandbox: info,
      // Env prefixes are the same on every runner (they are baked into the image);
      // the conda work folder is the runner's own.
      localRoot: join(root, "local"),
      env: { RATTLER_MAMBA_LOG: installerLog, BTD_MOUNT_STATE_DIR: join(root, "mounts") },
    });
    const own = { "backtest:condaWorkDir": { value: join(root, name, "conda-work") } };
    for (const s of [stacks.a, stacks.b, stacks.live]) s.setConfig(own);
    runners.push(stacks);
    return { ...stacks, name, workDir, programModule };
  };
  return {
    root,
    pg,
    filer,
    jenkins,
    backendUrl,
    installerLog,
    info,
    installerCalls: async () =>
      (await readFile(installerLog, "utf8").catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
    runner,
    stop: async () => {
      await Promise.allSettled([filer.stop(), jenkins.stop(), pg.stop(), ...runners.map((r) => r.dispose())]);
      await rm(root, { recursive: true, force: true });
    },
  };
}
