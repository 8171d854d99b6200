/**
 * Content identity of a local source: sha256 of a file, or of a folder's
 * canonical manifest (relative path, type, mode, size, content hash or link
 * target, sorted). Cached by path, size and mtime within the process, so
 * check and create do not hash a GiB image twice.
 */
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256File, sha256Text } from "../hash.ts";

export interface SourceInfo {
  abs: string;
  folder: boolean;
  /** Bytes of the file, or of all files in the folder. */
  size: number;
  sha256: string;
}

const cache = new Map<string, { size: number; sha256: string }>();

async function manifest(root: string, rel: string, lines: string[]): Promise<number> {
  let total = 0;
  const names = (await readdir(join(root, rel))).sort();
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const abs = join(root, relPath);
    const st = await lstat(abs);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) lines.push(`l ${relPath} -> ${await readlink(abs)}`);
    else if (st.isDirectory()) {
      lines.push(`d ${relPath} ${mode}`);
      total += await manifest(root, relPath, lines);
    } else if (st.isFile()) {
      lines.push(`f ${relPath} ${mode} ${st.size} ${await sha256File(abs)}`);
      total += st.size;
    }
  }
  return total;
}

/** undefined when the source does not exist. */
export async function inspectSource(abs: string): Promise<SourceInfo | undefined> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const folder = st.isDirectory();
  const key = `${abs}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const hit = folder ? undefined : cache.get(key);
  if (hit) return { abs, folder, ...hit };
  if (folder) {
    const lines: string[] = [];
    const size = await manifest(abs, "", lines);
    return { abs, folder, size, sha256: sha256Text(`${lines.join("\n")}\n`) };
  }
  const sha256 = await sha256File(abs);
  cache.set(key, { size: st.size, sha256 });
  return { abs, folder, size: st.size, sha256 };
}
