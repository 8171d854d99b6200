/**
 * Drives real `pulumi preview/up/refresh/destroy` for tests: each project
 * gets a temporary work folder (with a node_modules link so the dynamic
 * provider plugin finds @pulumi/pulumi and this package by name), a file://
 * backend, the passphrase secrets provider, and no network. The program runs
 * in a child Node process (runner.ts), never in the test runner itself.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { RunOp, RunRequest, RunResult } from "./runner.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const RUNNER = join(REPO_ROOT, "test/support/pulumi/runner.ts");
export const PASSPHRASE = "backtest-deploy-test-passphrase";

export interface EngineEvent {
  sequence?: number;
  timestamp?: number;
  diagnosticEvent?: { message: string; severity: string; urn?: string; ephemeral?: boolean };
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
  resOpFailedEvent?: { metadata: StepMetadata };
  summaryEvent?: { resourceChanges?: Record<string, number> };
  preludeEvent?: unknown;
  [k: string]: unknown;
}

export interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  new?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  keys?: string[];
  diffs?: string[];
  detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }>;
}

export interface OpOutcome extends RunResult {
  events: EngineEvent[];
  /** What the CLI printed. */
  output: string;
  /** op per resource URN name (excluding the stack), e.g. { env: "replace" }. */
  steps: Record<string, string>;
  /** Diagnostic lines (what providers printed). */
  diagnostics: string[];
  /** The run's engine events as NDJSON, as `pulumi … --event-log FILE` writes them. */
  eventsFile: string;
}

export interface ProjectOptions {
  projectName: string;
  stackName?: string;
  /** Absolute path of a module that default-exports the program. */
  programModule: string;
  /** An existing folder to use as the work folder (must see node_modules); default: a new temp folder. */
  workDir?: string;
  /** Shared backend folder (several projects/stacks in one backend); default: inside workDir. */
  backendUrl?: string;
  env?: Record<string, string>;
}

export interface PulumiProject {
  workDir: string;
  backendUrl: string;
  stackName: string;
  env: Record<string, string>;
  /** Creates the stack if it does not exist yet (nothing deployed). */
  init(): Promise<void>;
  /** The stack's current outputs. */
  outputs(): Promise<Record<string, { value: unknown; secret: boolean }>>;
  preview(opts?: OpFlags): Promise<OpOutcome>;
  up(opts?: OpFlags): Promise<OpOutcome>;
  refresh(opts?: OpFlags): Promise<OpOutcome>;
  destroy(opts?: OpFlags): Promise<OpOutcome>;
  /** The stack's deployment (pulumi stack export). */
  exportState(): Promise<Deployment>;
  importState(deployment: Deployment): Promise<void>;
  /** Raw text of the backend's state file for this stack (for secret scans). */
  stateFileText(): Promise<string>;
  setConfig(config: Record<string, { value: string; secret?: boolean }>): void;
  dispose(): Promise<void>;
}

export interface OpFlags {
  env?: Record<string, string>;
  expectNoChanges?: boolean;
  refresh?: boolean;
  /** Don't throw when the operation fails; return the outcome. */
  allowFailure?: boolean;
  programModule?: string;
  targets?: string[];
}

export interface Deployment {
  version: number;
  deployment: {
    resources?: Array<{
      urn: string;
      type: string;
      id?: string;
      inputs?: Record<string, unknown>;
      outputs?: Record<string, unknown>;
    }>;
    [k: string]: unknown;
  };
}

export async function makeWorkDir(prefix = "btd-pulumi-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await symlink(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "btd-test-program", type: "module" }));
  return dir;
}

export async function createProject(options: ProjectOptions): Promise<PulumiProject> {
  const workDir = options.workDir ?? (await makeWorkDir());
  const stackName = options.stackName ?? "test";
  let backendUrl = options.backendUrl;
  if (!backendUrl) {
    const backendDir = join(workDir, ".pulumi-backend");
    await mkdir(backendDir, { recursive: true });
    backendUrl = `file://${backendDir}`;
  }
  let config: RunRequest["config"];
  const baseEnv: Record<string, string> = {
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: join(workDir, ".pulumi-home"),
    ...options.env,
  };
  let counter = 0;
  // Request, event and result files of each run: scratch, kept out of the project folder.
  const runsDir = await mkdtemp(join(tmpdir(), "btd-runs-"));

  async function run(op: RunOp, flags: OpFlags = {}, stateFile?: string): Promise<OpOutcome> {
    counter++;
    const base = join(runsDir, `${stackName}-${counter}-${op}`);
    const req: RunRequest = {
      op,
      workDir,
      projectName: options.projectName,
      stackName,
      programModule: flags.programModule ?? options.programModule,
      envVars: { ...baseEnv, ...flags.env },
      config,
      eventsFile: `${base}.events.ndjson`,
      resultFile: `${base}.result.json`,
      stateFile,
      expectNoChanges: flags.expectNoChanges,
      refreshFirst: flags.refresh,
      targets: flags.targets,
    };
    // The request holds the stack's config, secrets included: it lives only while the run does.
    await writeFile(`${base}.request.json`, JSON.stringify(req), { mode: 0o600 });
    const runner = execa("node", ["--no-warnings", RUNNER, `${base}.request.json`], {
      cwd: workDir,
      reject: false,
      all: true,
      env: { ...baseEnv, ...flags.env },
    });
    const proc = await runner.finally(() => rm(`${base}.request.json`, { force: true }));
    const result: RunResult = existsSync(req.resultFile)
      ? (JSON.parse(await readFile(req.resultFile, "utf8")) as RunResult)
      : { ok: false, error: proc.all ?? "runner produced no result" };
    await rm(req.resultFile, { force: true });
    const events = existsSync(req.eventsFile)
      ? (await readFile(req.eventsFile, "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as EngineEvent)
      : [];
    const outcome: OpOutcome = {
      ...result,
      events,
      output: proc.all ?? "",
      steps: stepsOf(events),
      diagnostics: events.flatMap((e) => (e.diagnosticEvent ? [e.diagnosticEvent.message] : [])),
      eventsFile: req.eventsFile,
    };
    if (!result.ok && !flags.allowFailure) {
      throw new Error(
        `pulumi ${op} of ${options.projectName}/${stackName} failed:\n${proc.all ?? result.error}`,
      );
    }
    return outcome;
  }

  return {
    workDir,
    backendUrl,
    stackName,
    env: baseEnv,
    init: async () => {
      await run("init");
    },
    outputs: async () => (await run("outputs")).outputs ?? {},
    preview: (f) => run("preview", f),
    up: (f) => run("up", f),
    refresh: (f) => run("refresh", f),
    destroy: (f) => run("destroy", f),
    async exportState() {
      const file = join(runsDir, `export-${Date.now()}.json`);
      await run("export", {}, file);
      return JSON.parse(await readFile(file, "utf8")) as Deployment;
    },
    async importState(deployment) {
      const file = join(runsDir, `import-${Date.now()}.json`);
      await writeFile(file, JSON.stringify(deployment));
      await run("import", {}, file);
    },
    async stateFileText() {
      const dir = backendUrl.replace(/^file:\/\//, "");
      const path = join(dir, ".pulumi", "stacks", options.projectName, `${stackName}.json`);
      return readFile(path, "utf8");
    },
    setConfig(next) {
      config = { ...config, ...next };
    },
    async dispose() {
      await rm(runsDir, { recursive: true, force: true });
      if (!options.workDir) await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** The op of each resource step, keyed by the resource's name (last URN segment). */
export function stepsOf(events: EngineEvent[]): Record<string, string> {
  const steps: Record<string, string> = {};
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (!m || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:")) continue;
    const name = m.urn.split("::").pop() ?? m.urn;
    const prev = steps[name];
    // A replace shows as several steps (create-replacement, delete-replaced): keep the telling one.
    if (prev === undefined || m.op === "replace" || (prev === "same" && m.op !== "same")) steps[name] = m.op;
  }
  return steps;
}

/** Resources of a given type in an exported deployment. */
export function resourcesOfType(state: Deployment, type: string) {
  return (state.deployment.resources ?? []).filter((r) => r.type === type);
}
