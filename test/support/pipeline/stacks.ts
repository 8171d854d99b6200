/**
 * The example pipeline's three stacks (a, b, live) pointed at a sandbox:
 * the stack config a team would set for its real filer, Jenkins and conda
 * channel, here filled in from the sandbox's connection details. Used by the
 * demo and by the pipeline's e2e tests.
 */
import { cp, mkdir, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createProject, type PulumiProject, REPO_ROOT } from "../pulumi/harness.ts";
import type { SandboxInfo } from "../sandbox/info.ts";

export const EXAMPLE_PROJECT = "meanrev-backtests";
export const SLOT_STACKS = ["a", "b"] as const;

export interface PipelineOptions {
  /** The project folder (holds Pulumi.yaml and the stack files). */
  workDir: string;
  /** The program's main module. */
  programModule: string;
  backendUrl: string;
  sandbox: SandboxInfo;
  /** Scratch root on this machine: env prefixes, results, conda work folder. */
  localRoot: string;
  liveSlot?: string;
  /** Extra environment for every operation (e.g. RATTLER_MAMBA_LOG). */
  env?: Record<string, string>;
}

export interface PipelineStacks {
  a: PulumiProject;
  b: PulumiProject;
  live: PulumiProject;
  stack(name: string): PulumiProject;
  setLiveSlot(slot: string): void;
  setLiveConfig(key: string, value: string): void;
  /** Removes the scratch of the three projects' runs (the stacks and the work folder stay). */
  dispose(): Promise<void>;
}

export function btdMountCommand(): string {
  return `node ${join(REPO_ROOT, "dist/provider/cli/btd-mount.js")}`;
}

export async function pipelineStacks(o: PipelineOptions): Promise<PipelineStacks> {
  const { sandbox } = o;
  const common: Record<string, { value: string; secret?: boolean }> = {
    "meanrev-backtests:filerMountRoot": { value: sandbox.filer.root },
    "meanrev-backtests:outputRoot": { value: join(o.localRoot, "results") },
    "meanrev-backtests:prefixRoot": { value: join(o.localRoot, "envs") },
    "meanrev-backtests:btdMount": { value: btdMountCommand() },
    "backtest:filerHost": { value: sandbox.filer.host },
    "backtest:filerPort": { value: String(sandbox.filer.port) },
    "backtest:filerUser": { value: sandbox.filer.user },
    "backtest:filerPrivateKey": { value: sandbox.filer.privateKey, secret: true },
    "backtest:filerHostKeys": { value: sandbox.filer.hostKey },
    "backtest:jenkinsUrl": { value: sandbox.jenkins.url },
    "backtest:jenkinsUser": { value: sandbox.jenkins.user },
    "backtest:jenkinsApiToken": { value: sandbox.jenkins.apiToken, secret: true },
    "backtest:condaWorkDir": { value: join(o.localRoot, "conda-work") },
  };
  const slotConfig = {
    ...common,
    "meanrev-backtests:condaChannels": { value: JSON.stringify([sandbox.conda.channel]) },
    "meanrev-backtests:installer": { value: sandbox.conda.installer },
    // rattler-mamba speaks mamba's flags; its name does not say so.
    "meanrev-backtests:installerDialect": { value: "mamba" },
  };
  const make = async (stackName: string) => {
    const p = await createProject({
      projectName: EXAMPLE_PROJECT,
      stackName,
      programModule: o.programModule,
      workDir: o.workDir,
      backendUrl: o.backendUrl,
      env: { PULUMI_HOME: join(o.localRoot, "pulumi-home"), ...o.env },
    });
    return p;
  };
  const a = await make("a");
  const b = await make("b");
  const live = await make("live");
  a.setConfig(slotConfig);
  b.setConfig(slotConfig);
  live.setConfig({ ...common, "meanrev-backtests:liveSlot": { value: o.liveSlot ?? "a" } });
  const byName: Record<string, PulumiProject> = { a, b, live };
  return {
    a,
    b,
    live,
    stack: (name) => {
      const p = byName[name];
      if (!p) throw new Error(`no stack ${name}: the example has a, b and live`);
      return p;
    },
    setLiveSlot: (slot) => live.setConfig({ "meanrev-backtests:liveSlot": { value: slot } }),
    setLiveConfig: (key, value) => live.setConfig({ [`meanrev-backtests:${key}`]: { value } }),
    dispose: async () => {
      await Promise.all([a.dispose(), b.dispose(), live.dispose()]);
    },
  };
}

export const EXAMPLE_DIR = join(REPO_ROOT, "examples/backtest-pipeline");

/**
 * A team's copy of the example in a checkout folder of its own: the project
 * files without the Python package's source and without the example's own
 * stack files (the sandbox's config goes there instead), and a node_modules
 * that finds this package by name.
 */
export async function copyExample(dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await cp(EXAMPLE_DIR, dest, {
    recursive: true,
    filter: (src) => !src.startsWith(`${EXAMPLE_DIR}/project`) && !/Pulumi\.(a|b|live)\.yaml$/.test(src),
  });
  await symlink(join(REPO_ROOT, "node_modules"), join(dest, "node_modules"));
}
