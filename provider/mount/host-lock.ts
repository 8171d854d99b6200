/**
 * An exclusive flock on a host-wide lock file. Node has no flock, so a
 * small `flock` process holds it and we keep its stdin open: when we
 * release, or die (even by SIGKILL), the pipe closes, `cat` ends and the
 * kernel drops the lock. Holding the lock in a child also keeps it out of
 * the squashfuse daemon we start, which would otherwise inherit the
 * descriptor and hold the lock for as long as the mount lives.
 */
import { execa } from "execa";
import { BacktestDeployError } from "../errors.ts";
import { ensureSharedFile } from "./state-dir.ts";

export const LOCK_TIMEOUT_S = 600;

export async function withHostLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  await ensureSharedFile(lockFile);
  const holder = execa(
    "flock",
    ["-x", "-w", String(LOCK_TIMEOUT_S), lockFile, "sh", "-c", "echo locked; exec cat >/dev/null"],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false, buffer: { stdout: false } },
  );
  const locked = await new Promise<boolean>((resolve) => {
    holder.stdout?.once("data", () => resolve(true));
    void holder.then(() => resolve(false));
  });
  if (!locked) {
    const r = await holder;
    throw new BacktestDeployError({
      code: "BTD_MOUNT_LOCK",
      reason: `could not lock ${lockFile} within ${LOCK_TIMEOUT_S} s (flock exit ${r.exitCode}: ${String(r.stderr).trim()})`,
      hint: "another btd-mount on this host holds the lock: look for a hung one (ps -ef | grep btd-mount), or check the folder's permissions",
    });
  }
  try {
    return await fn();
  } finally {
    holder.stdin?.end();
    await holder;
  }
}
