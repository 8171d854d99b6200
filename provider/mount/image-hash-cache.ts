/**
 * The full sha256 of an image, read at most once per host. Images live on
 * NFS and are GiBs; every job re-reading them would load the filer for
 * nothing, since a content-addressed image never changes in place. The
 * cache entry is keyed by path and checked against size, mtime and inode,
 * so a file replaced under the same name is read again. A per-image lock
 * makes concurrent first jobs wait for one reader instead of all reading.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { BacktestDeployError } from "../errors.ts";
import { sha256File } from "../hash.ts";
import { withHostLock } from "./host-lock.ts";
import { ensureSharedDir, hashCacheDir, keyOf, readSharedFile, writeSharedFile } from "./state-dir.ts";

export interface HashCacheEntry {
  image: string;
  size: string;
  mtimeNs: string;
  ino: string;
  sha256: string;
  computedAt: string;
}

export interface ImageHash {
  sha256: string;
  fromCache: boolean;
  cacheFile: string;
}

export function hashCacheFile(stateDir: string, image: string): string {
  return join(hashCacheDir(stateDir), `${keyOf(image)}.json`);
}

export async function imageSha256(
  stateDir: string,
  image: string,
  log: (line: string) => void,
): Promise<ImageHash> {
  await ensureSharedDir(stateDir);
  await ensureSharedDir(hashCacheDir(stateDir));
  const cacheFile = hashCacheFile(stateDir, image);
  return withHostLock(cacheFile.replace(/\.json$/, ".lock"), async () => {
    const info = await statImage(image);
    const key = { image, size: String(info.size), mtimeNs: String(info.mtimeNs), ino: String(info.ino) };
    const cached = parseEntry(await readSharedFile(cacheFile));
    if (
      cached &&
      cached.image === key.image &&
      cached.size === key.size &&
      cached.mtimeNs === key.mtimeNs &&
      cached.ino === key.ino
    ) {
      log(`image hash from host cache ${cacheFile}: ${cached.sha256}`);
      return { sha256: cached.sha256, fromCache: true, cacheFile };
    }
    const started = Date.now();
    const sha256 = await sha256File(image);
    log(`image hash computed (${key.size} bytes in ${Date.now() - started} ms): ${sha256}`);
    const entry: HashCacheEntry = { ...key, sha256, computedAt: new Date().toISOString() };
    await writeSharedFile(cacheFile, `${JSON.stringify(entry, null, 2)}\n`);
    return { sha256, fromCache: false, cacheFile };
  });
}

async function statImage(image: string) {
  try {
    return await stat(image, { bigint: true });
  } catch (err) {
    throw new BacktestDeployError({
      code: "BTD_MOUNT_IMAGE_MISSING",
      reason: `cannot read image ${image}: ${(err as Error).message}`,
      hint: "check the path the job was rendered with and that the filer is mounted on this host",
      cause: err,
    });
  }
}

function parseEntry(text: string | undefined): HashCacheEntry | undefined {
  if (!text?.trim()) return undefined;
  try {
    const e = JSON.parse(text) as Partial<HashCacheEntry>;
    return typeof e.sha256 === "string" && /^[0-9a-f]{64}$/.test(e.sha256)
      ? (e as HashCacheEntry)
      : undefined;
  } catch {
    return undefined;
  }
}
