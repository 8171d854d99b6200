/**
 * Subprocesses: stream their output line by line into progress (throttled),
 * keep a tail for errors, and turn a failure into a CommandError that says
 * what ran, how it ended and what it said.
 */
import { execa } from "execa";
import { CommandError, tail } from "./errors.ts";
import type { Progress } from "./progress.ts";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  extendEnv?: boolean;
  input?: string | Buffer;
  progress?: Progress;
  /** Progress phase for streamed lines, e.g. "install". */
  phase?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Error facts used when the command fails. */
  code: string;
  resource?: string;
  op?: string;
  hint?: string;
  /** Exit codes that are not failures. */
  okExitCodes?: number[];
}

export interface RunOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

export async function runCommand(
  file: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunOutput> {
  const started = Date.now();
  const proc = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: opts.extendEnv ?? true,
    input: opts.input,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (opts.progress) {
    const progress = opts.progress;
    const phase = opts.phase ?? file;
    const onData = (chunk: Buffer) => {
      const lines = chunk
        .toString("utf8")
        .split(/[\r\n]+/)
        .filter((l) => l.trim().length > 0);
      const last = lines[lines.length - 1];
      if (last) progress.tick({ phase, message: last.trim().slice(0, 200) });
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
  }
  const result = await proc;
  const out: RunOutput = {
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
    exitCode: result.exitCode ?? -1,
    durationMs: Date.now() - started,
  };
  const ok = (opts.okExitCodes ?? [0]).includes(out.exitCode) && !result.signal && !result.timedOut;
  if (!ok) {
    const how = result.timedOut
      ? `timed out after ${opts.timeoutMs} ms`
      : result.signal
        ? `was killed by ${result.signal}`
        : `exited with code ${out.exitCode}`;
    const said = tail(out.stderr || out.stdout, 15);
    throw new CommandError({
      code: opts.code,
      resource: opts.resource,
      op: opts.op,
      reason: `${file} ${how}${said ? `:\n${said}` : ""}`,
      hint: opts.hint,
      command: [file, ...args].join(" "),
      exitCode: result.exitCode,
      signal: result.signal,
      stderrTail: said,
    });
  }
  return out;
}
