/**
 * The host-wide state folder: one lock file and one state file per prefix,
 * and the hash cache. Jobs of different users share it, so its folders are
 * world-writable and every file is created 0666. They are not sticky: a
 * state file is replaced by rename (a job killed mid-write must not leave a
 * torn file that loses the count), and a sticky folder refuses a rename over
 * another user's file.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, stat } from "node:fs/promises";
import { basename, join } from "node:path";

export const SHARED_DIR_MODE = 0o777;
export const SHARED_FILE_MODE = 0o666;

export async function ensureSharedDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const info = await stat(dir);
  // Only the owner may chmod; a folder someone else made is left as they made it.
  if (info.uid === process.getuid?.() && (info.mode & 0o7777) !== SHARED_DIR_MODE) {
    await chmod(dir, SHARED_DIR_MODE);
  }
}

export async function ensureSharedFile(path: string): Promise<void> {
  const handle = await open(path, "a", SHARED_FILE_MODE);
  try {
    const info = await handle.stat();
    if (info.uid === process.getuid?.() && (info.mode & 0o777) !== SHARED_FILE_MODE) {
      await handle.chmod(SHARED_FILE_MODE);
    }
  } finally {
    await handle.close();
  }
}

/** Replaces a shared file atomically (call under its lock). */
export async function writeSharedFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, "w", SHARED_FILE_MODE);
  try {
    await handle.chmod(SHARED_FILE_MODE);
    await handle.write(text, 0, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

export async function readSharedFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A file-name-safe key: readable tail plus a hash, so two prefixes never share a lock. */
export function keyOf(path: string): string {
  const readable = basename(path)
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 60);
  return `${readable}-${createHash("sha256").update(path).digest("hex").slice(0, 16)}`;
}

export interface PrefixFiles {
  lock: string;
  state: string;
}

export function mountsDir(stateDir: string): string {
  return join(stateDir, "mounts");
}

export function prefixFiles(stateDir: string, prefix: string): PrefixFiles {
  const key = keyOf(prefix);
  return { lock: join(mountsDir(stateDir), `${key}.lock`), state: join(mountsDir(stateDir), `${key}.json`) };
}

export function hashCacheDir(stateDir: string): string {
  return join(stateDir, "hash-cache");
}
