/**
 * Whether a recorded holder still runs. A PID alone is not enough: after a
 * SIGKILL the PID can be reused, and an unreaped child is a zombie that
 * kill(pid, 0) still reports as alive. /proc/<pid>/stat gives both the
 * state and the start time (in clock ticks since boot), and any user may
 * read it, so a job of one user can judge another user's holder.
 */
import { readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** Start time from /proc/<pid>/stat, field 22. */
  start: string;
}

interface ProcStat {
  state: string;
  start: string;
}

function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19];
  return state && start ? { state, start } : undefined;
}

export function identityOf(pid: number): ProcessIdentity | undefined {
  const s = readProcStat(pid);
  return s ? { pid, start: s.start } : undefined;
}

export function isRunning(id: ProcessIdentity): boolean {
  const s = readProcStat(id.pid);
  return s !== undefined && s.start === id.start && s.state !== "Z" && s.state !== "X";
}
