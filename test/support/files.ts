import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Every file below dir (not folders), as sorted paths relative to it; [] when dir is missing. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
