/**
 * Explicit locks: what `conda list --explicit --md5` prints and
 * `create --file` installs without solving.
 *
 *   # platform: linux-64
 *   @EXPLICIT
 *   https://host/channel/linux-64/python-3.11.2-0_debian.tar.bz2#<md5>
 */

export interface LockedPackage {
  url: string;
  /** Channel URL: everything before "/<subdir>/<file>". */
  channel: string;
  subdir: string;
  name: string;
  version: string;
  build: string;
  /** md5 (32 hex) or "sha256:<64 hex>", as written after '#'. */
  hash: string;
}

export interface ParsedLock {
  platform: string | undefined;
  packages: LockedPackage[];
}

export interface LockProblem {
  line: number;
  reason: string;
}

const PACKAGE_FILE = /^(.+)-([^-]+)-([^-]+)\.(tar\.bz2|conda)$/;
const HASH = /^(?:[0-9a-f]{32}|sha256:[0-9a-f]{64})$/;

/** Parses a lock, collecting every problem instead of stopping at the first. */
export function parseExplicitLock(text: string): { lock: ParsedLock; problems: LockProblem[] } {
  const problems: LockProblem[] = [];
  const packages: LockedPackage[] = [];
  let platform: string | undefined;
  let explicitSeen = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s*platform:\s*(\S+)/.exec(line);
      if (m) platform = m[1];
      return;
    }
    if (line === "@EXPLICIT") {
      explicitSeen = true;
      return;
    }
    if (!explicitSeen) {
      problems.push({ line: n, reason: `"${line.slice(0, 80)}" comes before the @EXPLICIT marker` });
      return;
    }
    const pkg = parseLockLine(line);
    if (typeof pkg === "string") problems.push({ line: n, reason: pkg });
    else packages.push(pkg);
  });
  if (!explicitSeen) problems.push({ line: 0, reason: "no @EXPLICIT line (not an explicit lock)" });
  else if (packages.length === 0 && problems.length === 0)
    problems.push({ line: 0, reason: "no packages after @EXPLICIT" });
  const seen = new Map<string, number>();
  for (const p of packages) seen.set(p.name, (seen.get(p.name) ?? 0) + 1);
  for (const [name, count] of seen) {
    if (count > 1) problems.push({ line: 0, reason: `package ${name} is listed ${count} times` });
  }
  return { lock: { platform, packages }, problems };
}

function parseLockLine(line: string): LockedPackage | string {
  const hashAt = line.lastIndexOf("#");
  if (hashAt < 0) return `"${line.slice(0, 80)}" has no #<md5> hash (export with --md5)`;
  const url = line.slice(0, hashAt);
  const hash = line.slice(hashAt + 1).toLowerCase();
  if (!HASH.test(hash)) return `"${line.slice(0, 80)}": "${hash}" is not an md5 or sha256:<hex> hash`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url.slice(0, 80)}" is not a URL`;
  }
  const parts = parsed.pathname.split("/");
  const file = decodeURIComponent(parts[parts.length - 1] ?? "");
  const subdir = parts[parts.length - 2] ?? "";
  const m = PACKAGE_FILE.exec(file);
  if (!m || !subdir)
    return `"${url.slice(0, 80)}" does not end in <subdir>/<name>-<version>-<build>.tar.bz2 or .conda`;
  const channel = url.slice(0, url.length - file.length - subdir.length - 2);
  return { url, channel, subdir, name: m[1] as string, version: m[2] as string, build: m[3] as string, hash };
}

/** Lock text with credentials taken out of every URL (conda tokens `/t/<token>/`, `user:pass@`). */
export function stripLockCredentials(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.startsWith("#") ? line : stripUrlCredentials(line)))
    .join("\n");
}

export function stripUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1").replace(/\/t\/[^/\s]+\//, "/");
}

/** Credentials inside a URL, or undefined: the token of `/t/<token>/` or the `user:pass` part. */
export function urlCredentials(url: string): string | undefined {
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(url);
  if (userInfo) return userInfo[1];
  const token = /\/t\/([^/\s]+)\//.exec(url);
  return token?.[1];
}

/**
 * Inserts a conda token into a channel URL (`https://host/t/<token>/path`),
 * the form every conda installer understands without a config file.
 */
export function withToken(url: string, token: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)(\/.*)?$/i.exec(url);
  if (!m) return url;
  return `${m[1]}/t/${token}${m[2] ?? "/"}`;
}

/** The canonical text of a lock, as hashed for identity: comments and blank lines do not count. */
export function canonicalLock(lock: ParsedLock): string {
  return ["@EXPLICIT", ...lock.packages.map((p) => `${stripUrlCredentials(p.url)}#${p.hash}`)].join("\n");
}
