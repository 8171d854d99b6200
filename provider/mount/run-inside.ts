/**
 * Runs the job's command inside the env: its bin first on PATH and
 * CONDA_PREFIX set, as `conda activate` would for the tools a backtest
 * calls. Signals sent to the helper (Jenkins aborting a build, HTCondor
 * evicting a job) go on to the command, and the helper reports the
 * command's own status.
 */
import { constants } from "node:os";
import { delimiter, join } from "node:path";
import type { Writable } from "node:stream";
import { execa } from "execa";

const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

export function envInside(prefix: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const path = [join(prefix, "bin"), ...(env.PATH ?? "").split(delimiter).filter(Boolean)].join(delimiter);
  return { ...env, PATH: path, CONDA_PREFIX: prefix, CONDA_DEFAULT_ENV: prefix };
}

/**
 * The command starts behind a gate: a shell waits on fd 3 until the helper
 * has recorded its PID as a holder, then execs the command (same PID, same
 * start time). Without it, a helper killed right after the spawn would
 * leave a running command that no state file knows, and the next join or
 * --gc would unmount the env under it. If the helper dies first, the gate
 * closes without a word and the command never starts.
 */
const GATE = 'IFS= read -r _ <&3 || exit 125; exec 3<&-; exec "$@"';

/** Exit status of the command: its code, or 128 + signal number as a shell reports it; 127 if it cannot start. */
export async function runInside(
  prefix: string,
  command: readonly string[],
  onStart: (pid: number) => Promise<void>,
  log: (line: string) => void,
): Promise<number> {
  if (command.length === 0) return 127;
  const child = execa("/bin/sh", ["-c", GATE, "btd-mount", ...command], {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env: envInside(prefix, process.env),
    extendEnv: false,
    reject: false,
  });
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    // Node makes an extra "pipe" fd a socket pair, writable from our side; execa types it as output only.
    const gate = child.stdio[3] as unknown as Writable | undefined;
    if (child.pid !== undefined) await onStart(child.pid);
    gate?.end("go\n");
    const result = await child;
    if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
    if (result.exitCode === undefined) {
      log(`could not run ${command[0]}: ${result.originalMessage ?? result.shortMessage}`);
      return 127;
    }
    return result.exitCode;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
