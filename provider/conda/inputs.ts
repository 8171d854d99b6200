/**
 * CondaSquashEnv inputs: validated and resolved once, in check(). File
 * inputs are read here and recorded by content hash and a path relative to
 * the program folder, so checkouts in different folders give equal inputs.
 * Defaults that depend on the runner (processors, work folder) are left
 * unset here and resolved at build time, so they never show up as a diff.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import type { CheckFailure, Props, StackConfig } from "../context.ts";
import { sha256Text } from "../hash.ts";
import { resolveSetting } from "../settings.ts";
import { COMPRESSIONS, type Compression, LEVELS } from "../squashfs/squash.ts";
import { isUnknown } from "../unknown.ts";
import { Failures } from "../validate.ts";
import { DIALECTS, type Dialect, dialectOfPath, isDialect } from "./installer-dialect.ts";
import { canonicalLock, parseExplicitLock, urlCredentials } from "./lock.ts";
import {
  dependenciesOfEnvFile,
  derivePrefix,
  type EnvIdentity,
  identityFromSpecs,
  pythonTagOf,
  validatePrefix,
} from "./prefix.ts";

export const DEFAULT_PREFIX_ROOT = "/opt/envs";
export const DEFAULT_BLOCK_SIZE = 1048576;
export const DEFAULT_MEM = "512M";

export interface FileInput {
  /** Relative to the program folder (absolute only when outside it). */
  path: string;
  /** sha256 of the content (for a lock: of its canonical form, comments aside). */
  sha256: string;
}

export interface SquashfsInputs {
  compression: Compression;
  level?: number;
  blockSize: number;
  processors?: number;
  mem: string;
}

export interface CondaSquashEnvInputs {
  btdName: string;
  specs?: string[];
  environmentFile?: FileInput;
  /** What environmentFile asks for, shown to reviewers by the preview summary; not identity (diff ignores it). */
  requestedSpecs?: string[];
  lockFile?: FileInput;
  /** The env's main package (names the prefix and the image). */
  project?: string;
  channels: string[];
  overrideChannels: boolean;
  /** channel URL → token; secret, read at build time only, never in outputs. */
  channelCredentials?: Record<string, string>;
  prefix: string;
  /** "mamba" | "micromamba" | "conda" (found on PATH) or an absolute path to one. */
  installer: string;
  installerDialect: Dialect;
  smokeTest: string[];
  squashfs: SquashfsInputs;
  workDir?: string;
  keepLocalImage: boolean;
}

const MEM = /^\d+[KMGkmg]?$/;

/** Channel URLs must not carry credentials: they would land in state and logs. */
function validateChannel(f: Failures, property: string, channel: string): void {
  if (urlCredentials(channel) !== undefined) {
    f.add(
      property,
      `channel "${channel.replace(/\/\/[^/]*@/, "//***@").replace(/\/t\/[^/]+\//, "/t/***/")}" carries credentials in its URL; they would be stored in plain state. Put the token in channelCredentials (a secret) instead`,
    );
  }
}

async function readInputFile(
  f: Failures,
  property: string,
  raw: string,
): Promise<{ rel: string; text: string } | undefined> {
  const abs = isAbsolute(raw) ? raw : resolve(raw);
  const rel = relative(process.cwd(), abs);
  try {
    return { rel: rel.startsWith("..") || isAbsolute(rel) ? abs : rel, text: await readFile(abs, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    f.add(
      property,
      `${property} "${raw}" cannot be read (${code ?? String(err)}); paths are relative to the program folder ${process.cwd()}`,
    );
    return undefined;
  }
}

export async function checkInputs(
  news: Props,
  config: StackConfig,
): Promise<{ inputs?: Props; failures?: CheckFailure[] }> {
  const f = new Failures();
  const out: Props = { btdName: news.btdName };

  const specs = f.stringArray("specs", news.specs);
  const envPath = f.string("environmentFile", news.environmentFile, { nonEmpty: true });
  const lockPath = f.string("lockFile", news.lockFile, { nonEmpty: true });
  const given = [news.specs, news.environmentFile, news.lockFile].filter(
    (v) => v !== undefined && v !== null,
  );
  if (given.length !== 1) {
    f.add(
      "specs",
      given.length === 0
        ? "say what to install: one of specs, environmentFile or lockFile"
        : "give only one of specs, environmentFile or lockFile",
    );
  }
  if (specs && specs.length === 0)
    f.add("specs", 'specs must list at least one package, e.g. ["yourproject=1.0.0", "python=3.11"]');
  if (specs) out.specs = specs;
  else if (isUnknown(news.specs)) out.specs = news.specs;

  const project = f.string("project", news.project, { nonEmpty: true });
  if (project !== undefined) out.project = project;

  let identity: EnvIdentity | undefined;
  if (specs && specs.length > 0) identity = identityFromSpecs(specs, project);

  if (envPath !== undefined) {
    const file = await readInputFile(f, "environmentFile", envPath);
    if (file) {
      const deps = dependenciesOfEnvFile(file.text);
      if (deps.length === 0) f.add("environmentFile", `environmentFile "${envPath}" lists no dependencies`);
      identity = identityFromSpecs(deps, project);
      out.environmentFile = { path: file.rel, sha256: sha256Text(file.text) } satisfies FileInput;
      out.requestedSpecs = deps;
    }
  } else if (isUnknown(news.environmentFile)) out.environmentFile = news.environmentFile;

  if (lockPath !== undefined) {
    const file = await readInputFile(f, "lockFile", lockPath);
    if (file) {
      const { lock, problems } = parseExplicitLock(file.text);
      for (const p of problems.slice(0, 5))
        f.add("lockFile", `lockFile "${lockPath}"${p.line ? ` line ${p.line}` : ""}: ${p.reason}`);
      if (problems.length > 5)
        f.add("lockFile", `lockFile "${lockPath}": ${problems.length - 5} more problems`);
      for (const p of lock.packages) {
        if (urlCredentials(p.url) !== undefined) {
          f.add(
            "lockFile",
            `lockFile "${lockPath}" has credentials in the URL of ${p.name}; strip them and use channelCredentials`,
          );
          break;
        }
      }
      if (problems.length === 0) {
        const main = project
          ? lock.packages.find((p) => p.name === project)
          : (lock.packages.find((p) => p.name !== "python" && p.subdir === "noarch") ??
            lock.packages.find((p) => p.name !== "python"));
        if (project && !main) f.add("project", `project "${project}" is not in lockFile "${lockPath}"`);
        const py = lock.packages.find((p) => p.name === "python");
        if (main) identity = { name: main.name, version: main.version, pythonTag: pythonTagOf(py?.version) };
        out.lockFile = { path: file.rel, sha256: sha256Text(canonicalLock(lock)) } satisfies FileInput;
        if (!project && main) out.project = main.name;
      }
    }
  } else if (isUnknown(news.lockFile)) out.lockFile = news.lockFile;

  const channels = f.stringArray("channels", news.channels) ?? [];
  for (const [i, c] of channels.entries()) validateChannel(f, `channels[${i}]`, c);
  out.channels = isUnknown(news.channels) ? news.channels : channels;
  out.overrideChannels = isUnknown(news.overrideChannels)
    ? news.overrideChannels
    : (f.boolean("overrideChannels", news.overrideChannels, true) ?? true);

  if (
    news.channelCredentials !== undefined &&
    news.channelCredentials !== null &&
    !isUnknown(news.channelCredentials)
  ) {
    const creds = news.channelCredentials;
    if (
      typeof creds !== "object" ||
      Array.isArray(creds) ||
      Object.values(creds).some((v) => typeof v !== "string")
    ) {
      f.add("channelCredentials", "channelCredentials must map channel URLs to tokens (strings)");
    } else out.channelCredentials = creds;
  }

  // prefix: explicit, or <prefixRoot>/<project>-<version>-py<XY>.
  if (isUnknown(news.prefix) || isUnknown(news.prefixRoot)) out.prefix = news.prefix ?? news.prefixRoot;
  else {
    let prefix = f.string("prefix", news.prefix, { nonEmpty: true });
    if (prefix === undefined && news.prefix === undefined) {
      const root = resolveSetting(
        "condaPrefixRoot",
        f.string("prefixRoot", news.prefixRoot, { nonEmpty: true }),
        config,
        DEFAULT_PREFIX_ROOT,
      ) as string;
      if (!isAbsolute(root)) f.add("prefixRoot", `prefixRoot must be an absolute path, got "${root}"`);
      else if (identity?.version) prefix = derivePrefix(root, identity);
      else if (f.empty) {
        f.add(
          "prefix",
          `prefix cannot be derived: ${identity ? `the version of ${identity.name} is not pinned` : "no main package found"}; pin it (e.g. "${identity?.name ?? "yourproject"}=1.0.0") or give prefix`,
        );
      }
    }
    if (prefix !== undefined) {
      for (const reason of validatePrefix(prefix)) f.add("prefix", reason);
      out.prefix = prefix;
    }
  }

  // installer and its dialect
  const installer = resolveSetting(
    "condaInstaller",
    f.string("installer", news.installer, { nonEmpty: true }),
    config,
    "mamba",
  ) as string;
  const explicitDialect = f.oneOf("installerDialect", news.installerDialect, DIALECTS);
  if (!isUnknown(news.installer)) {
    if (isDialect(installer)) {
      out.installer = installer;
      out.installerDialect = explicitDialect ?? installer;
    } else if (isAbsolute(installer)) {
      const dialect = explicitDialect ?? dialectOfPath(installer);
      if (!dialect) {
        f.add(
          "installerDialect",
          `cannot tell which flags installer "${installer}" takes from its name; set installerDialect to one of ${DIALECTS.map((d) => `"${d}"`).join(", ")}`,
        );
      }
      out.installer = installer;
      out.installerDialect = dialect;
    } else {
      f.add(
        "installer",
        `installer must be one of ${DIALECTS.map((d) => `"${d}"`).join(", ")} or an absolute path to one, got "${installer}"`,
      );
    }
  } else out.installer = news.installer;

  const smoke = f.stringArray("smokeTest", news.smokeTest) ?? [];
  if (smoke.some((c) => c.trim() === "")) f.add("smokeTest", "smokeTest commands must not be empty");
  out.smokeTest = isUnknown(news.smokeTest) ? news.smokeTest : smoke;

  out.squashfs = checkSquashfs(f, news.squashfs);

  const workDir = f.string("workDir", news.workDir, { nonEmpty: true });
  if (workDir !== undefined) out.workDir = workDir;
  out.keepLocalImage = f.boolean("keepLocalImage", news.keepLocalImage, true) ?? news.keepLocalImage;

  return f.empty ? { inputs: out } : { failures: f.list };
}

function checkSquashfs(f: Failures, raw: unknown): SquashfsInputs | unknown {
  if (isUnknown(raw)) return raw;
  const s = (raw ?? {}) as Record<string, unknown>;
  if (typeof s !== "object" || Array.isArray(s)) {
    f.add(
      "squashfs",
      `squashfs must be an object {compression, level, blockSize, processors, mem}, got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  const compression = f.oneOf("squashfs.compression", s.compression, COMPRESSIONS, "zstd") ?? "zstd";
  const range = LEVELS[compression];
  let level: number | undefined;
  if (s.level !== undefined && s.level !== null && !range) {
    f.add(
      "squashfs.level",
      `squashfs.level is not supported with ${compression} compression (only ${Object.keys(LEVELS).join(", ")} take a level)`,
    );
  } else if (range) {
    level = f.integer("squashfs.level", s.level, { min: range.min, max: range.max, fallback: range.default });
  }
  const blockSize = f.integer("squashfs.blockSize", s.blockSize, { fallback: DEFAULT_BLOCK_SIZE });
  if (
    blockSize !== undefined &&
    (blockSize < 4096 || blockSize > 1048576 || (blockSize & (blockSize - 1)) !== 0)
  ) {
    f.add(
      "squashfs.blockSize",
      `squashfs.blockSize must be a power of two from 4096 to 1048576, got ${blockSize}`,
    );
  }
  const processors = f.integer("squashfs.processors", s.processors, { min: 1 });
  const mem = f.string("squashfs.mem", s.mem, { nonEmpty: true }) ?? DEFAULT_MEM;
  if (!MEM.test(mem)) f.add("squashfs.mem", `squashfs.mem must be a size like "512M" or "2G", got "${mem}"`);
  const out: SquashfsInputs = { compression, blockSize: blockSize ?? DEFAULT_BLOCK_SIZE, mem };
  if (level !== undefined) out.level = level;
  if (processors !== undefined) out.processors = processors;
  return out;
}
