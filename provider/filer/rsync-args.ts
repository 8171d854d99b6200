/**
 * Every rsync command line the provider runs, built in one place so a unit
 * test can hold each against the options both rrsync generations accept
 * (shared/rrsync-compat.md). Rules: relative destinations under the rrsync
 * root; missing parents through -R and a "/./" anchor (never --mkpath);
 * rsync's temp-file-then-rename (never --inplace); --timeout always.
 * Pure: no I/O.
 */

/** The shim ignores the host part: it connects to the session's filer, whatever rsync names. */
export const REMOTE = "filer:";

export interface CommonKnobs {
  timeoutSeconds: number;
  /** KiB/s; tests throttle uploads to kill them mid-transfer. */
  bwlimitKiB?: number | undefined;
}

function common(k: CommonKnobs): string[] {
  const out = [`--timeout=${k.timeoutSeconds}`];
  if (k.bwlimitKiB !== undefined && k.bwlimitKiB > 0) out.push(`--bwlimit=${k.bwlimitKiB}`);
  return out;
}

export interface PushPlan extends CommonKnobs {
  /** Folder holding `relPath` (a symlink to the source): the part before the "/./" anchor. */
  stageDir: string;
  relPath: string;
  folder: boolean;
  /** Octal file mode on the filer, e.g. "0644". */
  mode: string;
  /** Compare by checksum: skip (adopt) a file that is already there with the same content. */
  checksum: boolean;
  /** Use a similar file in the destination folder (the previous version) as the delta basis. */
  fuzzy: boolean;
  dryRun: boolean;
}

export function dirModeFor(fileMode: string): string {
  // Folders get x wherever the file mode grants r, so readers can enter them.
  const n = Number.parseInt(fileMode, 8);
  const withX = n | ((n & 0o444) >> 2);
  return withX.toString(8).padStart(4, "0");
}

export function pushArgs(p: PushPlan): string[] {
  const args = ["-R", "--no-implied-dirs", "--perms", "--times", `--chmod=F${p.mode},D${dirModeFor(p.mode)}`];
  // A file is staged as a symlink to the source: follow it. A folder is named with a
  // trailing slash so the staged link is followed while links inside it stay links.
  if (p.folder) args.push("--recursive", "--links");
  else args.push("--copy-links");
  if (p.checksum) args.push("--checksum");
  if (p.fuzzy) args.push("--fuzzy");
  if (p.dryRun) args.push("--dry-run", "--itemize-changes");
  else args.push("--info=progress2", "--stats");
  args.push(...common(p));
  args.push(`${p.stageDir}/./${p.relPath}${p.folder ? "/" : ""}`, `${REMOTE}./`);
  return args;
}

export interface DeletePlan extends CommonKnobs {
  /** An empty folder (with the parents of each path as empty folders). */
  emptyDir: string;
  relPaths: readonly string[];
}

export function deleteArgs(p: DeletePlan): string[] {
  return [
    "-R",
    "--no-implied-dirs",
    "--dirs",
    "--delete-missing-args",
    "--force",
    ...common(p),
    ...p.relPaths.map((r) => `${p.emptyDir}/./${r}`),
    `${REMOTE}./`,
  ];
}

export function listArgs(relPath: string, k: CommonKnobs): string[] {
  return ["--list-only", "--dirs", "--links", ...common(k), `${REMOTE}${relPath}`];
}

export interface LinkPlan extends CommonKnobs {
  stageDir: string;
  relPath: string;
}

/** rsync creates the symlink under a temp name and renames it over the old one. */
export function linkArgs(p: LinkPlan): string[] {
  return ["-R", "--no-implied-dirs", "--links", ...common(p), `${p.stageDir}/./${p.relPath}`, `${REMOTE}./`];
}

export interface ListEntry {
  kind: "file" | "dir" | "link" | "other";
  size: number;
  name: string;
  target?: string;
}

/** Parses `rsync --list-only` lines: "-rw-r--r--  1,234 2024/01/02 03:04:05 name [-> target]". */
export function parseListing(stdout: string): ListEntry[] {
  const out: ListEntry[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^([-dlcbps])[rwxsStT-]{9}\s+([\d,.]+)\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (!m) continue;
    const [, t, size, rest] = m as unknown as [string, string, string, string];
    const kind = t === "-" ? "file" : t === "d" ? "dir" : t === "l" ? "link" : "other";
    const arrow = kind === "link" ? rest.indexOf(" -> ") : -1;
    const entry: ListEntry = {
      kind,
      size: Number(size.replace(/[,.]/g, "")),
      name: arrow >= 0 ? rest.slice(0, arrow) : rest.trimEnd(),
    };
    if (arrow >= 0) entry.target = rest.slice(arrow + 4);
    out.push(entry);
  }
  return out;
}

/** Lines of `--itemize-changes` that move content (">f…", "cL…", "cd…"), not just attributes. */
export function contentChanges(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^[<>ch][fdLDS]/.test(l) && !/ \.\/?$/.test(l));
}

export interface ProgressSample {
  bytes: number;
  percent: number;
  rate: string;
}

/** Parses one `--info=progress2` update: "  1,234,567  12%   10.50MB/s    0:00:10". */
export function parseProgress(text: string): ProgressSample | undefined {
  const all = [...text.matchAll(/([\d,]+)\s+(\d+)%\s+(\S+\/s)/g)];
  const m = all[all.length - 1];
  if (!m) return undefined;
  return { bytes: Number((m[1] as string).replace(/,/g, "")), percent: Number(m[2]), rate: m[3] as string };
}

/** "Total bytes sent: 1,234" from --stats. */
export function parseBytesSent(stdout: string): number | undefined {
  const m = /Total bytes sent: ([\d,]+)/.exec(stdout);
  return m ? Number((m[1] as string).replace(/,/g, "")) : undefined;
}
