/**
 * Remote paths are relative to the account's rrsync root. They may name the
 * content hash ({sha256}, {sha12}) so a new version is a new file and a
 * published one is never overwritten.
 */
const PLACEHOLDER = /\{(sha256|sha12)\}/g;
// Conservative on purpose: these names travel through rsync's argument
// protection, a remote shell and rrsync's parser, and end up in job configs.
const SEGMENT = /^[A-Za-z0-9._+@=,%-]+$/;

export function isContentAddressed(template: string): boolean {
  return /\{(sha256|sha12)\}/.test(template);
}

export function renderRemotePath(template: string, sha256: string): string {
  return template.replace(PLACEHOLDER, (_m, name: string) =>
    name === "sha12" ? sha256.slice(0, 12) : sha256,
  );
}

/** Why a remote path (template or link) is unusable, or undefined when it is fine. */
export function validateRemotePath(path: string): string | undefined {
  if (path.length === 0) return "must not be empty";
  if (path.includes("\0")) return "must not contain a NUL character";
  if (/[\r\n]/.test(path)) return "must not contain a newline";
  if (/\{(?!sha256\}|sha12\})[^}]*\}/.test(path))
    return `only {sha256} and {sha12} may be substituted, got "${path}"`;
  if (path.startsWith("/")) return `must be relative to the account's rrsync root, got absolute "${path}"`;
  if (path.endsWith("/")) return `must name a file, not end with "/" (got "${path}")`;
  const segments = path.split("/");
  for (const seg of segments) {
    if (seg === "..") return `must not contain ".." (rrsync refuses it), got "${path}"`;
    if (seg === "." || seg === "") return `must not contain empty or "." segments, got "${path}"`;
    const bare = seg.replace(PLACEHOLDER, "x");
    if (!SEGMENT.test(bare)) {
      return `"${seg}" may only use letters, digits and . _ + @ = , % - (and {sha256}/{sha12}), got "${path}"`;
    }
  }
  return undefined;
}

/** A symlink's target may point anywhere the consumers resolve it; it only must be a single sane line. */
export function validateLinkTarget(target: string): string | undefined {
  if (target.length === 0) return "must not be empty";
  if (target.includes("\0")) return "must not contain a NUL character";
  if (/[\r\n]/.test(target)) return "must not contain a newline";
  return undefined;
}
