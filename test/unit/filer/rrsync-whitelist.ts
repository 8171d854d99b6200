/**
 * What both rrsync generations accept, embedded from shared/rrsync-compat.md
 * ("Long options the Perl version accepts from the client" and "Short
 * options it accepts"): the Perl rrsync-3.2.3.pl list is the narrower one.
 * rrsync-whitelist.test.ts checks this copy against the document when it is there.
 */
export const LONG_OPTIONS: readonly string[] =
  `append, backup-dir, block-size, bwlimit, checksum-choice, checksum-seed,
compare-dest, compress-choice, compress-level, copy-dest, copy-unsafe-links,
delay-updates, delete, delete-after, delete-before, delete-delay,
delete-during, delete-excluded, delete-missing-args, existing, fake-super,
files-from, force, from0, fuzzy, group, groupmap, hard-links, iconv,
ignore-errors, ignore-existing, ignore-missing-args, ignore-times, info,
inplace, link-dest, links, list-only, log-file, log-format,
max-alloc, max-delete, max-size, min-size, modify-window, new-compress,
no-implied-dirs, no-r, no-relative, no-specials, numeric-ids, old-compress,
one-file-system, only-write-batch, open-noatime, owner, partial,
partial-dir, perms, preallocate, recursive, remove-sent-files,
remove-source-files, safe-links, sender, server, size-only, skip-compress,
specials, stats, suffix, super, temp-dir, timeout, times, use-qsort, usermap`
    .split(/[\s,]+/)
    .filter(Boolean);

export const SHORT_LETTERS = "ACDEHIJKLORUWXbcdgklmnopqrtuvxyz";

/** Options that rsync must never send for us, whatever a whitelist says (rules 5). */
export const FORBIDDEN = ["inplace", "mkpath", "append", "partial"];

/** Whether rrsync (both generations) would accept this SSH_ORIGINAL_COMMAND. */
export function acceptsServerCommand(cmd: string): boolean {
  const words = cmd.trim().split(/\s+/);
  if (words[0] !== "rsync" || words[1] !== "--server") return false;
  const rest = words.slice(2);
  const dot = rest.indexOf(".");
  if (dot < 0) return false;
  const opts = rest.slice(0, dot);
  for (let i = 0; i < opts.length; i++) {
    const w = opts[i] as string;
    if (/^-[@B]\d+$/.test(w)) continue;
    const short = /^-([A-Za-z]*)(e\d*\.\w*)?$/.exec(w);
    if (short && !w.startsWith("--")) {
      if ([...(short[1] ?? "")].some((c) => !SHORT_LETTERS.includes(c))) return false;
      continue;
    }
    const long = /^--([^=]+)(=.*)?$/.exec(w);
    if (!long) return false;
    const name = long[1] as string;
    if (!LONG_OPTIONS.includes(name) || FORBIDDEN.includes(name)) return false;
    // Valued options may come as two words ("--copy-dest DIR").
    if (
      long[2] === undefined &&
      ["copy-dest", "temp-dir", "partial-dir", "backup-dir", "compare-dest", "link-dest"].includes(name)
    )
      i++;
  }
  return true;
}

/** Parses the two lists out of shared/rrsync-compat.md. */
export function parseCompatDoc(text: string): { long: string[]; short: string } {
  const start = text.indexOf("Long options the Perl version accepts");
  const end = text.indexOf("Refused always");
  const block = text.slice(text.indexOf("\n\n", start), end);
  const long = block
    .replace(/\([^)]*\)/g, "")
    .replace(/\band\b/g, ",")
    .split(/[\s,.]+/)
    .filter((w) => /^[a-z][a-z0-9-]*$/.test(w));
  const short = /Short options it accepts: `([A-Za-z]+)`/.exec(text)?.[1] ?? "";
  return { long, short };
}
