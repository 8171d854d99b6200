/**
 * The state of one prefix and the pure rules for joining and leaving it.
 * A holder is one btd-mount run; it also records the command it started,
 * so a helper killed while its command still reads from the mount keeps
 * the mount alive until that command ends too.
 */
import { isRunning, type ProcessIdentity } from "./process-liveness.ts";

export const STATE_VERSION = 1;

export interface Holder {
  helper: ProcessIdentity;
  command?: ProcessIdentity;
  uid: number;
  since: string;
}

export interface PrefixState {
  version: number;
  prefix: string;
  /** Set while an image is mounted at the prefix by btd-mount (also with no holders left). */
  image?: string;
  sha256?: string;
  mountedByUid?: number;
  holders: Holder[];
}

export function emptyState(prefix: string): PrefixState {
  return { version: STATE_VERSION, prefix, holders: [] };
}

/** A state file that does not parse is treated as empty: the mount table is the truth about mounts. */
export function parseState(text: string | undefined, prefix: string): PrefixState {
  if (!text?.trim()) return emptyState(prefix);
  try {
    const raw = JSON.parse(text) as Partial<PrefixState>;
    if (raw.version !== STATE_VERSION || !Array.isArray(raw.holders)) return emptyState(prefix);
    return { ...emptyState(prefix), ...raw, holders: raw.holders };
  } catch {
    return emptyState(prefix);
  }
}

export function isHolderLive(h: Holder, running: (id: ProcessIdentity) => boolean = isRunning): boolean {
  return running(h.helper) || (h.command !== undefined && running(h.command));
}

export function pruneHolders(
  state: PrefixState,
  running: (id: ProcessIdentity) => boolean = isRunning,
): { state: PrefixState; pruned: Holder[] } {
  const live = state.holders.filter((h) => isHolderLive(h, running));
  const pruned = state.holders.filter((h) => !live.includes(h));
  return { state: { ...state, holders: live }, pruned };
}

export function withoutHelper(state: PrefixState, helper: ProcessIdentity): PrefixState {
  return {
    ...state,
    holders: state.holders.filter((h) => !(h.helper.pid === helper.pid && h.helper.start === helper.start)),
  };
}
