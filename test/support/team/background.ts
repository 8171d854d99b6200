/**
 * Operations a test must interrupt or race: an operation started in the
 * background through the same runner and request format as harness.ts, whose
 * whole process tree (runner, CLI, provider plugin, rsync, installer) can be
 * SIGKILLed the way a CI runner dies; and the real `pulumi` CLI for the
 * commands a person types during recovery.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type Result } from "execa";
import { type EngineEvent, type PulumiProject, REPO_ROOT, stepsOf } from "../pulumi/harness.ts";
import type { RunOp, RunRequest, RunResult } from "../pulumi/runner.ts";

const RUNNER = join(REPO_ROOT, "test/support/pulumi/runner.ts");

export interface BackgroundOutcome extends RunResult {
  output: string;
  steps: Record<string, string>;
  events: EngineEvent[];
  signal: string | undefined;
}

export interface BackgroundOp {
  pid: number;
  /** SIGKILLs the runner and every process it started; resolves when the runner is gone. */
  kill(): Promise<void>;
  /** Settles when the runner exits (killed or not); never rejects. */
  done: Promise<BackgroundOutcome>;
}

export interface BackgroundOptions {
  projectName: string;
  programModule: string;
  env?: Record<string, string>;
}

/**
 * Starts `op` on the project's stack. It takes its config from the stack file
 * in the project folder, so run one harness operation (init) there first.
 */
export async function startInBackground(
  project: PulumiProject,
  op: RunOp,
  o: BackgroundOptions,
): Promise<BackgroundOp> {
  const dir = await mkdtemp(join(tmpdir(), "btd-bg-"));
  const env = { ...project.env, ...o.env };
  const req: RunRequest = {
    op,
    workDir: project.workDir,
    projectName: o.projectName,
    stackName: project.stackName,
    programModule: o.programModule,
    envVars: env,
    eventsFile: join(dir, "events.ndjson"),
    resultFile: join(dir, "result.json"),
  };
  await writeFile(join(dir, "request.json"), JSON.stringify(req));
  // A process group of its own, like a CI job's: the test kills the whole tree.
  const child = execa("node", ["--no-warnings", RUNNER, join(dir, "request.json")], {
    cwd: project.workDir,
    reject: false,
    all: true,
    env,
    detached: true,
  });
  const done = child.then(async (proc: Result) => {
    const result: RunResult = existsSync(req.resultFile)
      ? (JSON.parse(await readFile(req.resultFile, "utf8")) as RunResult)
      : { ok: false, error: String(proc.all ?? "runner produced no result") };
    const events = existsSync(req.eventsFile)
      ? (await readFile(req.eventsFile, "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as EngineEvent)
      : [];
    return {
      ...result,
      output: String(proc.all ?? ""),
      steps: stepsOf(events),
      events,
      signal: proc.signal,
    };
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    kill: async () => {
      await killTree(pid);
      await done;
    },
    done,
  };
}

async function childrenOf(pid: number): Promise<number[]> {
  const r = await execa("ps", ["-o", "pid=", "--ppid", String(pid)], { reject: false });
  return String(r.stdout)
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

async function descendantsOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const c of await childrenOf(pid)) out.push(c, ...(await descendantsOf(c)));
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs a process and all its descendants. The CLI starts its plugins in
 * process groups of their own, so killing the runner's group is not enough:
 * the tree is stopped first (no process can fork or reparent meanwhile), then
 * killed.
 */
export async function killTree(pid: number): Promise<void> {
  signal(-pid, "SIGSTOP");
  signal(pid, "SIGSTOP");
  const seen = new Set<number>();
  for (let round = 0; round < 3; round++) {
    const all = await descendantsOf(pid);
    const fresh = all.filter((p) => !seen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      seen.add(p);
      signal(p, "SIGSTOP");
    }
  }
  for (const p of [pid, ...seen]) signal(p, "SIGKILL");
  signal(-pid, "SIGKILL");
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The real `pulumi` CLI in the project's folder, with the project's backend and passphrase. */
export async function pulumiCli(project: PulumiProject, args: string[]): Promise<CliResult> {
  const r = await execa("pulumi", [...args, "--non-interactive", "--color", "never"], {
    cwd: project.workDir,
    env: project.env,
    reject: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 120_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
