/**
 * Command lines for the three conda installers. They share most flags
 * (`create -y -p PREFIX -c CH --override-channels SPECS`) but differ in how
 * an environment file is installed and how the explicit lock is exported:
 * conda and mamba print it with `list --explicit --md5`, micromamba with
 * `env export --explicit --md5` (its `list` had no `--explicit` before 2.0).
 */
import { basename } from "node:path";

export const DIALECTS = ["mamba", "micromamba", "conda"] as const;
export type Dialect = (typeof DIALECTS)[number];

export function isDialect(value: unknown): value is Dialect {
  return typeof value === "string" && (DIALECTS as readonly string[]).includes(value);
}

/** The dialect an installer path speaks, told by its basename ("mamba", "micromamba.exe", "conda-24"), or undefined. */
export function dialectOfPath(path: string): Dialect | undefined {
  const name = basename(path).toLowerCase();
  // micromamba contains "mamba": test the longer name first.
  if (name.startsWith("micromamba")) return "micromamba";
  if (name.startsWith("mamba")) return "mamba";
  if (name.startsWith("conda")) return "conda";
  return undefined;
}

export interface CreateFromSpecs {
  prefix: string;
  specs: readonly string[];
  channels: readonly string[];
  overrideChannels: boolean;
}

export function createFromSpecsArgs(_dialect: Dialect, c: CreateFromSpecs): string[] {
  const args = ["create", "-y", "-p", c.prefix];
  for (const ch of c.channels) args.push("-c", ch);
  if (c.overrideChannels) args.push("--override-channels");
  args.push(...c.specs);
  return args;
}

export function createFromEnvFileArgs(
  dialect: Dialect,
  c: { prefix: string; file: string; channels: readonly string[]; overrideChannels: boolean },
): string[] {
  // conda and mamba read environment.yml through `env create`; micromamba's
  // `create -f` takes YAML directly (it has no separate env create solver path).
  const args =
    dialect === "micromamba"
      ? ["create", "-y", "-p", c.prefix, "-f", c.file]
      : ["env", "create", "-y", "-p", c.prefix, "-f", c.file];
  // `env create` in conda < 24 took no -c; channels belong in the file there. Pass them only when asked.
  for (const ch of c.channels) args.push("-c", ch);
  if (c.overrideChannels) args.push("--override-channels");
  return args;
}

/** An @EXPLICIT list installs exactly its URLs, no solve: channels do not apply. */
export function createFromLockArgs(dialect: Dialect, c: { prefix: string; file: string }): string[] {
  return dialect === "micromamba"
    ? ["create", "-y", "-p", c.prefix, "-f", c.file]
    : ["create", "-y", "-p", c.prefix, "--file", c.file];
}

export function exportLockArgs(dialect: Dialect, prefix: string): string[] {
  return dialect === "micromamba"
    ? ["env", "export", "-p", prefix, "--explicit", "--md5"]
    : ["list", "-p", prefix, "--explicit", "--md5"];
}

export function listJsonArgs(_dialect: Dialect, prefix: string): string[] {
  return ["list", "-p", prefix, "--json"];
}

export function versionArgs(_dialect: Dialect): string[] {
  return ["--version"];
}

/**
 * The installer's own version from `--version`: conda prints "conda 24.1.2",
 * mamba 1.x "mamba 1.5.8\nconda 23.11.0", mamba 2 and micromamba "2.0.5".
 * The first line's version is the installer's.
 */
export function parseInstallerVersion(stdout: string): string {
  const first = stdout.trim().split(/\r?\n/)[0] ?? "";
  const m = /(\d+(?:\.\d+)+(?:[-.+\w]*)?)/.exec(first);
  return m?.[1] ?? (first.trim() || "unknown");
}

/**
 * Environment for every installer run: a fixed package cache inside the work
 * folder (so nothing of the user's ~/.conda leaks in and paths recorded in
 * conda-meta do not vary with HOME), copies instead of hardlinks into the
 * cache, no user condarc.
 */
export function installerEnv(dialect: Dialect, pkgsDir: string, rootPrefix: string): Record<string, string> {
  const env: Record<string, string> = {
    CONDA_PKGS_DIRS: pkgsDir,
    CONDA_ALWAYS_COPY: "true",
    CONDA_CHANGEPS1: "false",
    CONDA_AUTO_UPDATE_CONDA: "false",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  if (dialect !== "conda") {
    env.MAMBA_ROOT_PREFIX = rootPrefix;
    env.MAMBA_PKGS_DIRS = pkgsDir;
    env.MAMBA_ALWAYS_COPY = "true";
    env.MAMBA_NO_BANNER = "1";
  }
  return env;
}
