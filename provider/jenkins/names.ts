/**
 * Job paths. Jenkins addresses an item inside folders as
 * `/job/a/job/b/job/c/`, and its name check rejects `/` inside a name, so a
 * path like `team/backtests/nightly` is split here, and every segment is
 * checked at check() time: a bad name fails the preview, not the deploy.
 */

/** Characters Jenkins' Jenkins.checkGoodName refuses anywhere in a name. */
const UNSAFE = new Set([
  "?",
  "*",
  "/",
  "\\",
  "%",
  "!",
  "@",
  "#",
  "$",
  "^",
  "&",
  "|",
  "<",
  ">",
  "[",
  "]",
  ":",
  ";",
]);

export interface JobPath {
  /** Folder segments, outermost first; empty for a job at the root. */
  folders: string[];
  name: string;
}

/** Why Jenkins would refuse this one segment, or undefined when it would accept it. */
export function validateJobName(segment: string): string | undefined {
  if (segment.length === 0) return "a name must not be empty";
  if (segment === "." || segment === "..") return `"${segment}" is not an allowed name`;
  for (const ch of segment) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      return `"${JSON.stringify(segment).slice(1, -1)}" contains the control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
    }
    if (UNSAFE.has(ch)) return `"${segment}" contains "${ch}", which Jenkins does not allow in a name`;
  }
  if (segment.endsWith(".")) return `"${segment}" ends with ".", which Jenkins does not allow`;
  if (segment.trim() !== segment) return `"${segment}" starts or ends with a space, which Jenkins trims away`;
  return undefined;
}

/** Splits `a/b/c` into folders and name; returns the reasons when a segment is refused. */
export function parseJobPath(path: string): { ok: true; path: JobPath } | { ok: false; reasons: string[] } {
  const segments = path.split("/");
  const reasons: string[] = [];
  segments.forEach((segment, i) => {
    const why = validateJobName(segment);
    if (why) reasons.push(`segment ${i + 1} of "${path}": ${why}`);
  });
  if (reasons.length > 0) return { ok: false, reasons };
  const name = segments.pop() as string;
  return { ok: true, path: { folders: segments, name } };
}

export function joinJobPath(p: JobPath): string {
  return [...p.folders, p.name].join("/");
}

/** `team/nightly` → `job/team/job/nightly/` (relative to the Jenkins base URL, which ends in `/`). */
export function jobUrlPath(segments: readonly string[]): string {
  return segments.map((s) => `job/${encodeURIComponent(s)}/`).join("");
}
