/**
 * Command line of btd-mount. Parsing is pure so every refusal (missing
 * image, no command, a prefix that is not absolute) is unit-tested and
 * happens before any lock, hash or mount.
 */
import { isAbsolute } from "node:path";
import { BacktestDeployError } from "../errors.ts";

/** Host-wide on purpose: jobs of every user on the host must find the same locks and counts. */
export const DEFAULT_STATE_DIR = "/run/backtest-deploy";

export interface RunOptions {
  kind: "run";
  image: string;
  prefix: string;
  sha256?: string;
  stateDir: string;
  verbose: boolean;
  command: string[];
}

export interface GcOptions {
  kind: "gc";
  stateDir: string;
  verbose: boolean;
}

export interface HelpOptions {
  kind: "help";
}

export type MountOptions = RunOptions | GcOptions | HelpOptions;

export const USAGE = `Usage:
  btd-mount --image IMAGE.sqsh --prefix PREFIX [--sha256 HEX] [--state-dir DIR] [--verbose] -- COMMAND [ARGS...]
  btd-mount --gc [--state-dir DIR] [--verbose]

Mounts IMAGE read-only at PREFIX with squashfuse (or joins the mount other jobs on
this host already share), runs COMMAND with PREFIX/bin first on PATH and CONDA_PREFIX
set, and unmounts when the last job using it exits. The image's content hash must
match the one in its name (-<sha12>.sqsh) and/or --sha256; the full check of the
bytes runs once per host and is cached in the state folder.
--gc unmounts prefixes whose jobs are all gone (e.g. killed with SIGKILL).
State folder: --state-dir, else $BTD_MOUNT_STATE_DIR, else ${DEFAULT_STATE_DIR}.`;

function usageError(reason: string): BacktestDeployError {
  return new BacktestDeployError({
    code: "BTD_MOUNT_USAGE",
    reason,
    hint: "run btd-mount --help for the usage",
  });
}

export function parseMountArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): MountOptions {
  const dash = argv.indexOf("--");
  const flags = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  const values: Record<string, string> = {};
  let gc = false;
  let verbose = false;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] ?? "";
    if (flag === "--help" || flag === "-h") return { kind: "help" };
    if (flag === "--gc") gc = true;
    else if (flag === "--verbose" || flag === "-v") verbose = true;
    else if (["--image", "--prefix", "--sha256", "--state-dir"].includes(flag)) {
      const value = flags[i + 1];
      if (value === undefined || value.startsWith("--")) throw usageError(`${flag} needs a value`);
      values[flag] = value;
      i++;
    } else {
      const eq = flag.match(/^(--image|--prefix|--sha256|--state-dir)=(.*)$/);
      if (eq?.[1] && eq[2] !== undefined) values[eq[1]] = eq[2];
      else throw usageError(`unknown argument "${flag}" (the command goes after "--")`);
    }
  }
  const stateDir = values["--state-dir"] ?? env.BTD_MOUNT_STATE_DIR ?? DEFAULT_STATE_DIR;
  if (!isAbsolute(stateDir)) throw usageError(`--state-dir must be an absolute path, got "${stateDir}"`);
  if (gc) {
    if (values["--image"] || values["--prefix"] || command.length > 0) {
      throw usageError("--gc takes no --image, --prefix or command");
    }
    return { kind: "gc", stateDir, verbose };
  }
  const image = values["--image"];
  const prefix = values["--prefix"];
  if (!image) throw usageError("--image is required");
  if (!prefix) throw usageError("--prefix is required");
  if (!isAbsolute(image)) throw usageError(`--image must be an absolute path, got "${image}"`);
  if (!isAbsolute(prefix) || prefix === "/") {
    throw usageError(`--prefix must be an absolute path below /, got "${prefix}"`);
  }
  if (command.length === 0) throw usageError('no command to run: put it after "--"');
  const sha256 = values["--sha256"]?.toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw usageError(`--sha256 must be 64 hex digits, got "${values["--sha256"]}"`);
  }
  return {
    kind: "run",
    image,
    prefix: prefix.replace(/\/+$/, ""),
    ...(sha256 ? { sha256 } : {}),
    stateDir,
    verbose,
    command,
  };
}
