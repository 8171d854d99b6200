/**
 * At most N env builds per host, whatever Pulumi's parallelism: each build
 * holds one of N slot files under the cache folder with flock(1). Node has
 * no flock(2), so a small `flock` child holds the lock for us; the kernel
 * drops it when that child exits, and the child exits when our stdin pipe
 * closes, so a crashed provider never leaves a slot taken.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BacktestDeployError } from "../errors.ts";

export interface BuildSlot {
  slot: number;
  release(): Promise<void>;
}

export interface AcquireOptions {
  lockDir: string;
  slots: number;
  /** Called about every pollMs while all slots are busy. */
  onWait?: (waitedMs: number) => void;
  pollMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function acquireBuildSlot(opts: AcquireOptions): Promise<BuildSlot> {
  await mkdir(opts.lockDir, { recursive: true });
  const started = Date.now();
  const pollMs = opts.pollMs ?? 1000;
  for (;;) {
    for (let slot = 0; slot < opts.slots; slot++) {
      const held = await tryLock(join(opts.lockDir, `conda-build-${slot}.lock`));
      if (held) return { slot, release: () => releaseLock(held) };
    }
    const waited = Date.now() - started;
    if (opts.timeoutMs !== undefined && waited > opts.timeoutMs) {
      throw new BacktestDeployError({
        code: "BTD_CONDA_BUILD_SLOT_TIMEOUT",
        reason: `all ${opts.slots} env build slot(s) under ${opts.lockDir} stayed busy for ${Math.round(waited / 1000)} s`,
        hint: "wait for the other builds on this host, or raise backtest:condaBuildSlots",
      });
    }
    if (opts.signal?.aborted) throw opts.signal.reason;
    opts.onWait?.(waited);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Starts `flock -n FILE -c 'echo locked; exec cat'`; resolves with the child once it printed "locked", or undefined when busy. */
function tryLock(file: string): Promise<ChildProcess | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn("flock", ["-n", "-E", "75", file, "-c", "echo locked; exec cat >/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let settled = false;
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (!settled && out.includes("locked")) {
        settled = true;
        resolve(child);
      }
    });
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      reject(
        new BacktestDeployError({
          code: "BTD_CONDA_BUILD_LOCK",
          reason: `cannot run flock to take the build lock ${file}: ${e.message}`,
          hint: "install util-linux (it provides flock)",
          cause: e,
        }),
      );
    });
    child.on("exit", (code) => {
      if (settled) return;
      settled = true;
      if (code === 75) resolve(undefined);
      else
        reject(
          new BacktestDeployError({
            code: "BTD_CONDA_BUILD_LOCK",
            reason: `flock on ${file} exited with code ${code}: ${err.trim()}`,
            hint: "check that the cache folder is writable",
          }),
        );
    });
  });
}

function releaseLock(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.stdin?.end();
  });
}
