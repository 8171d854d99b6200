/**
 * Joining and leaving the mount of one prefix, always under its host-wide
 * lock: prune holders that died (a SIGKILLed job never leaves), mount if
 * nobody has, refuse a prefix that holds something else, and unmount when
 * the last holder leaves.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { BacktestDeployError } from "../errors.ts";
import {
  emptyState,
  type Holder,
  type PrefixState,
  parseState,
  pruneHolders,
  withoutHelper,
} from "./holders.ts";
import { withHostLock } from "./host-lock.ts";
import { mountAt } from "./mount-table.ts";
import type { ProcessIdentity } from "./process-liveness.ts";
import { mountImage, unmountPrefix } from "./squashfuse.ts";
import {
  ensureSharedDir,
  mountsDir,
  type PrefixFiles,
  prefixFiles,
  readSharedFile,
  writeSharedFile,
} from "./state-dir.ts";

export type Log = (line: string) => void;

export interface Join {
  stateDir: string;
  image: string;
  prefix: string;
  sha256: string;
  me: ProcessIdentity;
}

function describeHolders(holders: Holder[]): string {
  const pids = holders.map((h) => `${h.helper.pid} (uid ${h.uid})`).join(", ");
  return `${holders.length} running job${holders.length === 1 ? "" : "s"}${pids ? `: btd-mount pids ${pids}` : ""}`;
}

async function locked<T>(
  stateDir: string,
  prefix: string,
  log: Log,
  fn: (state: PrefixState, files: PrefixFiles) => Promise<T>,
): Promise<T> {
  await ensureSharedDir(stateDir);
  await ensureSharedDir(mountsDir(stateDir));
  const files = prefixFiles(stateDir, prefix);
  return withHostLock(files.lock, async () => {
    const { state, pruned } = pruneHolders(parseState(await readSharedFile(files.state), prefix));
    for (const h of pruned)
      log(`pruned holder btd-mount pid ${h.helper.pid} (uid ${h.uid}): no longer running`);
    return fn(state, files);
  });
}

async function save(files: PrefixFiles, state: PrefixState): Promise<void> {
  await writeSharedFile(files.state, `${JSON.stringify(state, null, 2)}\n`);
}

export async function joinMount(j: Join, log: Log): Promise<void> {
  await locked(j.stateDir, j.prefix, log, async (state, files) => {
    let current = state;
    const mounted = await mountAt(j.prefix);
    if (mounted && !current.image) {
      throw new BacktestDeployError({
        code: "BTD_MOUNT_FOREIGN",
        reason: `${j.prefix} is already a mount point (${mounted.fsType} from ${mounted.source}) that btd-mount did not make`,
        hint: `unmount it (umount ${j.prefix}) or pick another prefix; btd-mount shares only mounts it made itself`,
      });
    }
    if (!mounted && current.image) {
      log(`${current.image} is recorded at ${j.prefix} but no longer mounted: mounting again`);
      current = { ...current, image: undefined, sha256: undefined, mountedByUid: undefined };
    }
    if (mounted && current.image && current.image !== j.image) {
      if (current.holders.length > 0) {
        throw new BacktestDeployError({
          code: "BTD_MOUNT_OTHER_IMAGE",
          reason: `${j.prefix} has ${current.image} mounted, used by ${describeHolders(current.holders)}; this job wants ${j.image}`,
          hint: "one prefix holds one image per host: wait for those jobs to end, or run this job on another host",
        });
      }
      log(`unmounting ${current.image} from ${j.prefix}: no job uses it`);
      const refused = await unmountPrefix(j.prefix);
      if (refused) {
        throw new BacktestDeployError({
          code: "BTD_MOUNT_OTHER_IMAGE",
          reason: `${j.prefix} has ${current.image} mounted with no job left, and unmounting it failed: ${refused}`,
          hint: `run btd-mount --gc as root, or umount ${j.prefix}`,
        });
      }
      current = { ...current, image: undefined, sha256: undefined, mountedByUid: undefined };
    }
    if (mounted && current.image === j.image && !(await isReadable(j.prefix))) {
      // The squashfuse daemon died (killed with a build): the mount point answers ENOTCONN.
      log(`the mount at ${j.prefix} is dead (its squashfuse daemon is gone): mounting again`);
      await unmountPrefix(j.prefix, true);
      current = { ...current, image: undefined };
    }
    if (current.image !== j.image) {
      await prepareMountPoint(j.prefix);
      current = { ...current, image: j.image, sha256: j.sha256, mountedByUid: process.getuid?.() ?? -1 };
      // Recorded before mounting, so a helper that dies right after mounting leaves a mount --gc knows about.
      await save(files, current);
      log(`mounting ${j.image} at ${j.prefix}`);
      try {
        await mountImage(j.image, j.prefix);
      } catch (err) {
        await save(files, { ...current, image: undefined, sha256: undefined, mountedByUid: undefined });
        throw err;
      }
    } else {
      log(`joining the mount of ${j.image} at ${j.prefix} (${describeHolders(current.holders)})`);
    }
    const me: Holder = { helper: j.me, uid: process.getuid?.() ?? -1, since: new Date().toISOString() };
    await save(files, { ...current, holders: [...current.holders, me] });
  });
}

/** Records the command's process, so the mount outlives a killed helper while its command runs. */
export async function recordCommand(
  stateDir: string,
  prefix: string,
  me: ProcessIdentity,
  command: ProcessIdentity,
  log: Log,
): Promise<void> {
  await locked(stateDir, prefix, log, async (state, files) => {
    const holders = state.holders.map((h) =>
      h.helper.pid === me.pid && h.helper.start === me.start ? { ...h, command } : h,
    );
    await save(files, { ...state, holders });
  });
}

export async function leaveMount(
  stateDir: string,
  prefix: string,
  me: ProcessIdentity,
  log: Log,
): Promise<void> {
  await locked(stateDir, prefix, log, async (state, files) => {
    const next = withoutHelper(state, me);
    await save(files, await unmountIfUnused(next, log));
  });
}

async function unmountIfUnused(state: PrefixState, log: Log): Promise<PrefixState> {
  if (state.holders.length > 0) {
    log(`leaving ${state.prefix} mounted for ${describeHolders(state.holders)}`);
    return state;
  }
  if (!state.image) return state;
  if (!(await mountAt(state.prefix))) return { ...emptyState(state.prefix) };
  const refused = await unmountPrefix(state.prefix);
  if (refused) {
    log(
      `could not unmount ${state.prefix} (mounted by uid ${state.mountedByUid}): ${refused}; it stays mounted for the next job, and btd-mount --gc run by root removes it`,
    );
    return state;
  }
  log(`unmounted ${state.image} from ${state.prefix}: no job uses it any more`);
  return emptyState(state.prefix);
}

/** Unmounts every prefix whose holders are all gone. Returns the prefixes unmounted. */
export async function collectGarbage(stateDir: string, log: Log): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(mountsDir(stateDir))).filter((n) => n.endsWith(".json"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const unmounted: string[] = [];
  for (const name of names) {
    const files: PrefixFiles = {
      state: join(mountsDir(stateDir), name),
      lock: join(mountsDir(stateDir), name.replace(/\.json$/, ".lock")),
    };
    await withHostLock(files.lock, async () => {
      const { state, pruned } = pruneHolders(parseState(await readSharedFile(files.state), ""));
      for (const h of pruned)
        log(`pruned holder btd-mount pid ${h.helper.pid} (uid ${h.uid}): no longer running`);
      if (!state.prefix) return;
      const wasMounted = state.image !== undefined && (await mountAt(state.prefix)) !== undefined;
      const next = await unmountIfUnused(state, log);
      if (wasMounted && !next.image) unmounted.push(state.prefix);
      await save(files, next);
    });
  }
  return unmounted;
}

async function isReadable(prefix: string): Promise<boolean> {
  try {
    await stat(prefix);
    return true;
  } catch {
    return false;
  }
}

async function prepareMountPoint(prefix: string): Promise<void> {
  try {
    await mkdir(prefix, { recursive: true });
  } catch (err) {
    throw new BacktestDeployError({
      code: "BTD_MOUNT_PREFIX",
      reason: `cannot create the mount point ${prefix}: ${(err as Error).message}`,
      hint: "create the env root once on each host (e.g. mkdir -p /opt/envs && chmod 1777 /opt/envs) or run as a user that may",
      cause: err,
    });
  }
  const entries = await readdir(prefix);
  if (entries.length > 0) {
    throw new BacktestDeployError({
      code: "BTD_MOUNT_PREFIX_NOT_EMPTY",
      reason: `${prefix} is a folder with ${entries.length} entr${entries.length === 1 ? "y" : "ies"} (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}); mounting over it would hide them`,
      hint: `remove or move ${prefix} (a leftover unpacked env?) so the image can be mounted there`,
    });
  }
}
