/**
 * Building straight at the prefix is only safe when the prefix is empty or
 * holds a build of ours that failed half-way. "Ours" is recorded in the work
 * folder (never inside the prefix, so it stays out of the image).
 */
import { mkdir, readdir, readFile, rm, rmdir, statfs, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BacktestDeployError } from "../errors.ts";
import { isMountPoint, unmount } from "../squashfs/mount.ts";

export interface OwnerRecord {
  prefix: string;
  resource: string;
  /** Whether we created the prefix folder (then we remove it too). */
  createdDir: boolean;
}

export async function readOwner(path: string): Promise<OwnerRecord | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as OwnerRecord;
  } catch {
    return undefined;
  }
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return ["(not a folder)"];
    throw err;
  }
}

/** Takes the prefix for a build: empty (created if missing), or refuses. */
export async function claimPrefix(
  prefix: string,
  ownerPath: string,
  resource: string,
  label: string,
): Promise<OwnerRecord> {
  const previous = await readOwner(ownerPath);
  const ours = previous !== undefined && previous.prefix === prefix && previous.resource === resource;
  if (await isMountPoint(prefix)) {
    if (!ours) throw inUse(prefix, label, "something is mounted there");
    await unmount(prefix, label);
  }
  const entries = await entriesOf(prefix);
  if (entries !== undefined && entries.length > 0) {
    if (!ours)
      throw inUse(
        prefix,
        label,
        `it holds ${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}`,
      );
    await clearDir(prefix);
  }
  const record: OwnerRecord = {
    prefix,
    resource,
    createdDir: ours ? previous.createdDir : entries === undefined,
  };
  await mkdir(dirname(ownerPath), { recursive: true });
  await writeFile(ownerPath, JSON.stringify(record));
  await mkdir(prefix, { recursive: true });
  return record;
}

/** Empties and (if we made it) removes the prefix, then forgets it. Idempotent. */
export async function releasePrefix(ownerPath: string, label: string): Promise<void> {
  const record = await readOwner(ownerPath);
  if (!record) return;
  if (await isMountPoint(record.prefix)) await unmount(record.prefix, label);
  if ((await entriesOf(record.prefix)) !== undefined) {
    await clearDir(record.prefix);
    if (record.createdDir) await rmdir(record.prefix).catch(() => undefined);
  }
  await rm(ownerPath, { force: true });
}

export async function clearDir(dir: string): Promise<void> {
  for (const name of (await entriesOf(dir)) ?? [])
    await rm(`${dir}/${name}`, { recursive: true, force: true });
}

function inUse(prefix: string, label: string, what: string): BacktestDeployError {
  return new BacktestDeployError({
    code: "BTD_CONDA_PREFIX_IN_USE",
    resource: label,
    op: "create",
    reason: `prefix ${prefix} is not empty and was not built by this resource: ${what}`,
    hint: "choose another prefix, or remove what is there if it is really unused",
  });
}

/** Free bytes on the filesystem that holds path (or its nearest existing parent). */
export async function freeBytes(path: string): Promise<number> {
  let p = path;
  for (;;) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || p === dirname(p)) throw err;
      p = dirname(p);
    }
  }
}

export async function requireFreeSpace(paths: string[], minBytes: number, label: string): Promise<void> {
  for (const path of paths) {
    const free = await freeBytes(path);
    if (free < minBytes) {
      throw new BacktestDeployError({
        code: "BTD_CONDA_DISK_FULL",
        resource: label,
        op: "create",
        reason: `only ${(free / 2 ** 30).toFixed(2)} GiB free at ${path}; a build needs at least ${(minBytes / 2 ** 30).toFixed(2)} GiB (env, package cache and image)`,
        hint: "free space there, point workDir elsewhere, or lower backtest:condaMinFreeBytes",
      });
    }
  }
}
