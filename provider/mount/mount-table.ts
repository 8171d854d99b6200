/** What the kernel says is mounted at a path (/proc/self/mountinfo). */
import { readFile } from "node:fs/promises";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const [before, after] = line.split(" - ");
    const mountPoint = before?.split(" ")[4];
    const [fsType, source] = (after ?? "").split(" ");
    if (mountPoint && fsType) {
      entries.push({ mountPoint: unescapeOctal(mountPoint), fsType, source: unescapeOctal(source ?? "") });
    }
  }
  return entries;
}

/** The top-most mount at a path, if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  const entries = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
  return entries.filter((e) => e.mountPoint === path).pop();
}
