/**
 * A filer session for one operation: resolves the connection settings,
 * opens the verified SSH tunnel, and runs rsync through it, one command at a
 * time per account, retrying only the newer rrsync's lock refusal.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { OpContext } from "../context.ts";
import { BacktestDeployError } from "../errors.ts";
import { withRetry } from "../retry.ts";
import { accountKey, withAccountLock } from "./account-lock.ts";
import type { PinnedHostKey } from "./host-keys.ts";
import { parseBytesSent, parseProgress } from "./rsync-args.ts";
import { isLockRefusal, RRSYNC_BUSY_RETRY, rsyncError } from "./rsync-errors.ts";
import { openTunnel, type Tunnel } from "./ssh-tunnel.ts";

export interface FilerEndpoint {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKeys: readonly PinnedHostKey[];
}

export interface RsyncResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  bytesSent?: number | undefined;
}

export interface RunRsyncOptions {
  /** Exit codes that are answers, not failures (23: a listed path does not exist). */
  okExitCodes?: number[];
  /** Report bytes sent and rate under this phase. */
  progressPhase?: string;
  totalBytes?: number;
}

export interface FilerSession {
  endpoint: string;
  rsync(args: readonly string[], opts?: RunRsyncOptions): Promise<RsyncResult>;
  /** A private scratch folder for staging links and empty folders; removed on close. */
  scratch(): Promise<string>;
  close(): Promise<void>;
}

/** Default --timeout: a hung filer fails instead of hanging the deploy. */
export const DEFAULT_TIMEOUT_SECONDS = 300;

export async function openSession(ep: FilerEndpoint, ctx: OpContext, op: string): Promise<FilerSession> {
  const endpoint = `${ep.user}@${ep.host}:${ep.port}`;
  ctx.progress.step(op, `connecting to ${endpoint}`);
  const tunnel: Tunnel = await openTunnel(ep, { resource: ctx.label, op });
  const scratchDirs: string[] = [];
  const key = accountKey(ep.host, ep.port, ep.user);
  const runOnce = async (args: readonly string[], opts: RunRsyncOptions): Promise<RsyncResult> => {
    const proc = execa("rsync", ["-e", tunnel.rsh, ...args], {
      env: tunnel.env,
      reject: false,
      stripFinalNewline: false,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (opts.progressPhase) {
      const phase = opts.progressPhase;
      proc.stdout?.on("data", (chunk: Buffer) => {
        const sample = parseProgress(chunk.toString("latin1"));
        if (!sample) return;
        ctx.progress.tick({
          phase,
          message: `sent ${sample.percent}% at ${sample.rate}`,
          done: sample.bytes,
          total: opts.totalBytes,
        });
      });
    }
    const r = await proc;
    const stdout = String(r.stdout ?? "");
    const stderr = String(r.stderr ?? "");
    const exitCode = r.exitCode ?? -1;
    const ok = !r.signal && (opts.okExitCodes ?? [0]).concat(0).includes(exitCode);
    if (!ok) {
      throw rsyncError({
        exitCode: r.exitCode,
        signal: r.signal,
        stderr,
        args,
        resource: ctx.label,
        op,
        endpoint,
      });
    }
    return { stdout, stderr, exitCode, bytesSent: parseBytesSent(stdout) };
  };
  return {
    endpoint,
    rsync: (args, opts = {}) =>
      withRetry(RRSYNC_BUSY_RETRY, () => withAccountLock(key, () => runOnce(args, opts)), ctx.progress),
    scratch: async () => {
      const dir = await mkdtemp(join(tmpdir(), "btd-stage-"));
      scratchDirs.push(dir);
      return dir;
    },
    close: async () => {
      await tunnel.close();
      await Promise.all(scratchDirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

export async function withSession<T>(
  ep: FilerEndpoint,
  ctx: OpContext,
  op: string,
  fn: (s: FilerSession) => Promise<T>,
): Promise<T> {
  const session = await openSession(ep, ctx, op);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

export { isLockRefusal };

/** For messages: a missing credential at op time. */
export function missingSetting(label: string, op: string, name: string): BacktestDeployError {
  return new BacktestDeployError({
    code: "BTD_FILER_SETTING_MISSING",
    resource: label,
    op,
    reason: `no ${name} for the filer`,
    hint: `pass ${name} to the resource, or set it for the stack: pulumi config set --secret backtest:${name} …`,
  });
}
