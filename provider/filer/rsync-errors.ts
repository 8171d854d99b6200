/**
 * Turns a failed rsync run into an error that says what the filer refused,
 * in rrsync's own words, and what to do. The lock refusal of the newer rrsync
 * is the only failure worth retrying.
 */
import { BacktestDeployError } from "../errors.ts";
import type { RetryPolicy } from "../retry.ts";

export const RSYNC_EXIT_MEANINGS: Readonly<Record<number, string>> = {
  1: "syntax or usage error",
  2: "protocol incompatibility",
  3: "errors selecting input/output files or folders",
  5: "error starting the client-server protocol",
  10: "error in socket I/O",
  11: "error in file I/O",
  12: "error in the rsync protocol data stream (the server side stopped; see its message)",
  13: "errors with program diagnostics",
  14: "error in IPC code",
  20: "received SIGUSR1 or SIGINT",
  23: "partial transfer due to error",
  24: "partial transfer due to vanished source files",
  25: "the --max-delete limit stopped deletions",
  30: "timeout in data send/receive",
  35: "timeout waiting for daemon connection",
  255: "the remote shell failed",
};

export const RRSYNC_LOCK_MESSAGE = "Another instance of rrsync is already accessing this directory";
const LEGACY_REFUSAL = "invalid rsync-command syntax or options";

export interface RsyncFailure {
  exitCode: number | undefined;
  signal?: string | undefined;
  stderr: string;
  /** The client command line we ran (options only; no secret in it). */
  args: readonly string[];
  resource: string;
  op: string;
  endpoint: string;
}

export function isLockRefusal(exitCode: number | undefined, stderr: string): boolean {
  return exitCode === 12 && stderr.includes(RRSYNC_LOCK_MESSAGE);
}

function longOptionsOf(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0] as string);
}

export function rsyncError(f: RsyncFailure): BacktestDeployError {
  const said = f.stderr.trim().split("\n").slice(-8).join("\n");
  const meaning = f.exitCode !== undefined ? RSYNC_EXIT_MEANINGS[f.exitCode] : undefined;
  const how = f.signal
    ? `rsync was killed by ${f.signal}`
    : `rsync exited with code ${f.exitCode}${meaning ? ` (${meaning})` : ""}`;
  const base = { resource: f.resource, op: f.op };
  const disabled = /option (\S+) has been disabled on this server/.exec(f.stderr);
  if (isLockRefusal(f.exitCode, f.stderr)) {
    return new BacktestDeployError({
      ...base,
      code: "BTD_FILER_RRSYNC_BUSY",
      reason: `the filer ${f.endpoint} is busy: rrsync said "${RRSYNC_LOCK_MESSAGE}." (${how})`,
      hint: "another deploy to the same account is running; wait for it and run again",
    });
  }
  if (disabled && /^--(delete|remove)/.test(disabled[1] ?? "")) {
    return new BacktestDeployError({
      ...base,
      code: "BTD_FILER_NO_DELETE",
      reason: `the deploy account ${f.endpoint} may not delete (rrsync -no-del refused ${disabled[1]}); the file stays on the filer and the resource stays in the state`,
      hint: "ask the filer's administrators to remove the file, then `pulumi state delete` the resource; or deploy with an account without -no-del",
    });
  }
  if (f.stderr.includes("reading from write-only server")) {
    return new BacktestDeployError({
      ...base,
      code: "BTD_FILER_WRITE_ONLY",
      reason: `the deploy account ${f.endpoint} is write-only (rrsync -wo) and cannot be read: ${said}`,
    });
  }
  if (f.stderr.includes("sending to read-only server")) {
    return new BacktestDeployError({
      ...base,
      code: "BTD_FILER_READ_ONLY",
      reason: `the deploy account ${f.endpoint} is read-only (rrsync -ro): ${said}`,
      hint: "use the filer's deploy account, not a read-only one",
    });
  }
  if (disabled || f.stderr.includes(LEGACY_REFUSAL)) {
    const which = disabled
      ? `the Python rrsync (rsync 3.2.4+) refused option ${disabled[1]}`
      : `the Perl rrsync (rsync <= 3.2.3, "rrsync-3.2.3.pl") refused one of the options ${longOptionsOf(f.args).join(" ")}`;
    return new BacktestDeployError({
      ...base,
      code: "BTD_FILER_RRSYNC_REFUSED",
      reason: `${which}: ${said}`,
      hint: "this is a bug in backtest-deploy's command line (it must only send options both rrsync versions accept); report it with this message",
    });
  }
  return new BacktestDeployError({
    ...base,
    code: f.exitCode === 30 ? "BTD_FILER_TIMEOUT" : "BTD_FILER_RSYNC_FAILED",
    reason: `${how} talking to ${f.endpoint}${said ? `:\n${said}` : ""}`,
    hint:
      f.exitCode === 30
        ? "the filer stopped answering; check it and run again"
        : "read rsync's message above; run again once the cause is fixed",
  });
}

/** Retry only the newer rrsync's lock refusal (another push to the same account is running). */
export const RRSYNC_BUSY_RETRY: RetryPolicy = {
  name: "rrsync lock",
  maxAttempts: Number(process.env.BTD_FILER_BUSY_ATTEMPTS ?? 12),
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  classify: (err) => ({
    retry:
      typeof err === "object" && err !== null && (err as { code?: unknown }).code === "BTD_FILER_RRSYNC_BUSY",
  }),
};
