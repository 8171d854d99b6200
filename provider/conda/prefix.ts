/**
 * The prefix is where the env is built and where every job host mounts the
 * image: conda writes it into scripts and binaries, so it must be exact.
 *
 * Why 255: conda-build builds packages with a long placeholder prefix
 * (`/opt/anaconda1anaconda2anaconda3` for text files, and a host prefix
 * padded to 255 characters for binaries), and at install time the installer
 * overwrites it in place with the real prefix, padding binary strings with
 * NULs. A prefix longer than the placeholder cannot fit: installers refuse
 * it or, worse, leave binaries pointing at a truncated path.
 */
import { posix } from "node:path";

export const MAX_PREFIX_LENGTH = 255;

/** Characters a prefix may use: conda itself refuses spaces and shell specials in prefixes of binary packages. */
const SAFE = /^[A-Za-z0-9._+/@=-]+$/;

/** Places a prefix must never be: building there would clobber the system. */
const SYSTEM = [
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib64",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/tmp",
  "/usr",
  "/var",
  "/home",
  "/opt",
];

/** Reasons the prefix is unusable (empty when fine). */
export function validatePrefix(prefix: string): string[] {
  const reasons: string[] = [];
  if (!posix.isAbsolute(prefix)) {
    reasons.push(`prefix must be an absolute path (it is where the image is mounted), got "${prefix}"`);
    return reasons;
  }
  if (Buffer.byteLength(prefix, "utf8") > MAX_PREFIX_LENGTH) {
    reasons.push(
      `prefix is ${Buffer.byteLength(prefix, "utf8")} bytes long; conda packages can be relocated only to prefixes of at most ${MAX_PREFIX_LENGTH} bytes (the length of the placeholder prefix they are built with)`,
    );
  }
  if (posix.normalize(prefix) !== prefix || (prefix.endsWith("/") && prefix !== "/")) {
    reasons.push(`prefix must be normalised (no "..", ".", "//" or trailing "/"), got "${prefix}"`);
  }
  if (!SAFE.test(prefix)) {
    reasons.push(`prefix may only use letters, digits and . _ + - @ = /; got "${prefix}"`);
  }
  if (SYSTEM.includes(posix.normalize(prefix).replace(/\/+$/, "") || "/")) {
    reasons.push(
      `prefix "${prefix}" is a system folder; use a folder of its own, e.g. "${prefix === "/" ? "" : prefix}/envs/project-1.0.0-py311"`,
    );
  }
  return reasons;
}

export interface EnvIdentity {
  name: string;
  version: string | undefined;
  /** "311" for python 3.11.x, undefined when python is not pinned. */
  pythonTag: string | undefined;
}

/** `<root>/<name>-<version>[-py<XY>]`: the default prefix. */
export function derivePrefix(root: string, id: EnvIdentity): string {
  const py = id.pythonTag ? `-py${id.pythonTag}` : "";
  return posix.join(root, `${id.name}-${id.version ?? "unversioned"}${py}`);
}

/** "3.11", "3.11.2", "3.11.*" → "311"; anything else undefined. */
export function pythonTagOf(version: string | undefined): string | undefined {
  if (!version) return undefined;
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}${m[2]}` : undefined;
}

export interface SpecParts {
  name: string;
  /** The version when the spec pins one exactly enough to name the env ("1.0.0", "3.11"), else undefined. */
  version: string | undefined;
}

/**
 * Name and pinned version of a match spec: "meanrev=1.0.0", "meanrev==1.0.0",
 * "meanrev 1.0.0 py_0", "conda-forge::meanrev=1.0.0=py_0", "python=3.11".
 * Ranges (">=1.0") do not name a version.
 */
export function parseSpec(spec: string): SpecParts | undefined {
  let s = spec.trim();
  const channelSep = s.indexOf("::");
  if (channelSep >= 0) s = s.slice(channelSep + 2);
  const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)(.*)$/.exec(s);
  if (!m) return undefined;
  const rest = (m[2] as string).trim();
  let candidate: string | undefined;
  if (rest.startsWith("==")) candidate = rest.slice(2);
  else if (rest.startsWith("=")) candidate = rest.slice(1).split("=")[0];
  else if (rest !== "") candidate = rest.split(/\s+/)[0];
  const version = candidate?.trim().replace(/\.\*$/, "");
  const exact = version && /^[0-9][A-Za-z0-9_.+!]*$/.test(version) ? version : undefined;
  return { name: (m[1] as string).toLowerCase(), version: exact };
}

/**
 * The env's main package: the named project, or the first spec that is not
 * python. Its version and python's name the prefix and the image.
 */
export function identityFromSpecs(specs: readonly string[], project?: string): EnvIdentity | undefined {
  const parsed = specs.map(parseSpec).filter((p): p is SpecParts => p !== undefined);
  const main = project
    ? parsed.find((p) => p.name === project.toLowerCase())
    : parsed.find((p) => p.name !== "python");
  if (!main) return undefined;
  const py = parsed.find((p) => p.name === "python");
  return { name: main.name, version: main.version, pythonTag: pythonTagOf(py?.version) };
}

/**
 * Dependencies of an environment.yml, read without a YAML library (the
 * provider has no YAML dependency): the "- spec" items of the top-level
 * `dependencies:` list, skipping the nested `- pip:` list.
 */
export function dependenciesOfEnvFile(text: string): string[] {
  const out: string[] = [];
  let inDeps = false;
  let itemIndent = -1;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "");
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inDeps = /^dependencies\s*:/.test(line);
      itemIndent = -1;
      continue;
    }
    if (!inDeps) continue;
    const m = /^(\s*)-\s+(.*)$/.exec(line);
    if (!m) continue;
    const ind = (m[1] as string).length;
    if (itemIndent < 0) itemIndent = ind;
    if (ind !== itemIndent) continue;
    const item = (m[2] as string).trim().replace(/^["']|["']$/g, "");
    if (item.endsWith(":")) continue;
    out.push(item);
  }
  return out;
}

/** Channels listed in an environment.yml, same reading as dependenciesOfEnvFile. */
export function channelsOfEnvFile(text: string): string[] {
  const out: string[] = [];
  let inChannels = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "");
    if (line.trim() === "") continue;
    if (!line.startsWith(" ") && !line.startsWith("-")) {
      inChannels = /^channels\s*:/.test(line);
      continue;
    }
    const m = /^\s*-\s+(.*)$/.exec(line);
    if (inChannels && m) out.push((m[1] as string).trim().replace(/^["']|["']$/g, ""));
  }
  return out;
}
