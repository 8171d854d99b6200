/**
 * What an installer writes that differs between two installs of the same
 * lock, made identical before squashing:
 * - conda-meta/history: a "==> <date> <==" header per transaction and a
 *   "# cmd:" line quoting the command (with its temp paths);
 * - conda-meta/<pkg>.json: the package cache paths it extracted from
 *   (`extracted_package_dir`, `package_tarball_full_path`, `link.source`),
 *   which name the work folder of whoever built;
 * - .pyc files compiled at install: timestamp-based ones record the source
 *   file's mtime. The image stores every mtime as 0 (-all-time 0), so the
 *   header gets 0 too: identical bytes, and still valid for Python at the
 *   mount (it compares the header with the source's mtime and size).
 */
import { open, opendir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const HISTORY_EPOCH_HEADER = "==> 1970-01-01 00:00:00 <==";

export function normalizeHistory(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.startsWith("# cmd:"))
    .map((line) => (/^==> .* <==$/.test(line) ? HISTORY_EPOCH_HEADER : line))
    .join("\n");
}

/** Keys of a conda-meta record that describe the build host, not the env. */
export const VOLATILE_RECORD_KEYS = ["extracted_package_dir", "package_tarball_full_path"] as const;

/** Returns the normalised record text, or undefined when nothing needed to change. */
export function normalizeRecord(text: string): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) return undefined;
  const obj = record as Record<string, unknown>;
  let changed = false;
  for (const key of VOLATILE_RECORD_KEYS) {
    if (key in obj) {
      delete obj[key];
      changed = true;
    }
  }
  const link = obj.link;
  if (link !== null && typeof link === "object" && "source" in link) {
    delete (link as Record<string, unknown>).source;
    changed = true;
  }
  return changed ? `${JSON.stringify(obj, null, 2)}\n` : undefined;
}

export async function normalizeCondaMeta(prefix: string): Promise<number> {
  const meta = join(prefix, "conda-meta");
  let changed = 0;
  let dir: Awaited<ReturnType<typeof opendir>>;
  try {
    dir = await opendir(meta);
  } catch {
    return 0;
  }
  for await (const entry of dir) {
    if (!entry.isFile()) continue;
    const path = join(meta, entry.name);
    if (entry.name === "history") {
      const text = await readFile(path, "utf8");
      const next = normalizeHistory(text);
      if (next !== text) {
        await writeFile(path, next);
        changed++;
      }
    } else if (entry.name.endsWith(".json")) {
      const next = normalizeRecord(await readFile(path, "utf8"));
      if (next !== undefined) {
        await writeFile(path, next);
        changed++;
      }
    }
  }
  return changed;
}

/** Zeroes the source mtime in every timestamp-based .pyc (PEP 552 flags == 0) under root. */
export async function normalizePycTimestamps(root: string): Promise<number> {
  let changed = 0;
  const header = Buffer.alloc(12);
  const zero = Buffer.alloc(4);
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of await opendir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && entry.name.endsWith(".pyc")) {
        const fh = await open(path, "r+");
        try {
          const { bytesRead } = await fh.read(header, 0, 12, 0);
          if (bytesRead === 12 && header.readUInt32LE(4) === 0 && header.readUInt32LE(8) !== 0) {
            await fh.write(zero, 0, 4, 8);
            changed++;
          }
        } finally {
          await fh.close();
        }
      }
    }
  };
  await walk(root);
  return changed;
}
