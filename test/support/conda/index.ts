// The conda part of the test sandbox: a mamba-compatible installer on py-rattler
// (bin/rattler-mamba) and a local file:// channel of real packages built by
// build-channel.py (python 3.11 from Debian's CPython, meanrev 1.0.0 and 1.1.0,
// prefix-probe 1.0.0). Both run with the fixture venv made by scripts/setup.sh.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..", "..", "..");

/** Absolute path of the test installer (speaks mamba's create/env create/list/run). */
export const installerPath: string = join(here, "bin", "rattler-mamba");

/** The script that builds the channel (`build-channel.py OUT_DIR`). */
export const buildChannelScript: string = join(here, "build-channel.py");

/** Folders whose content identifies the channel (keep in sync with build-channel.py). */
const inputDirs = ["test/support/conda", "examples/backtest-pipeline/project"];
const ignoredNames = new Set(["__pycache__", "build", "dist", ".pytest_cache", "node_modules", ".venv"]);
const stampName = ".btd-channel-stamp";

/** $BTD_CACHE, default ~/.cache/backtest-deploy (as scripts/setup.sh). */
export function btdCache(): string {
  return (
    process.env.BTD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "backtest-deploy")
  );
}

/** The fixture venv's python (py-rattler, whl2conda): $BTD_VENV or $BTD_CACHE/venv. */
export function venvPython(): string {
  return join(process.env.BTD_VENV ?? join(btdCache(), "venv"), "bin", "python");
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!ignoredNames.has(entry.name) && !entry.name.endsWith(".egg-info")) await walk(path, out);
    } else if (!entry.name.endsWith(".pyc") && !entry.name.endsWith(".pyo")) {
      out.push(relative(root, path).split(sep).join("/"));
    }
  }
}

/** sha256 over `<path>\0<sha256 of content>\n` of every input file, sorted by path (as build-channel.py). */
export async function channelInputsHash(): Promise<string> {
  const files: string[] = [];
  for (const dir of inputDirs) await walk(join(root, dir), files);
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const h = createHash("sha256");
  for (const rel of files) {
    const digest = createHash("sha256")
      .update(await readFile(join(root, rel)))
      .digest("hex");
    h.update(`${rel}\0${digest}\n`);
  }
  return h.digest("hex");
}

async function stampInputs(dir: string): Promise<string | undefined> {
  try {
    const stamp = JSON.parse(await readFile(join(dir, stampName), "utf8")) as { inputs?: unknown };
    return typeof stamp.inputs === "string" ? stamp.inputs : undefined;
  } catch {
    return undefined;
  }
}

let pending: Promise<string> | undefined;

/**
 * The channel folder ($BTD_CACHE/conda-channel-<hash of the inputs>), built with the venv's
 * python if missing or stale (about 10 s; a no-op afterwards). Use it as `-c <folder>` or
 * `file://<folder>`.
 */
export function ensureChannel(): Promise<string> {
  pending ??= (async () => {
    const hash = await channelInputsHash();
    const dir = join(btdCache(), `conda-channel-${hash.slice(0, 16)}`);
    if ((await stampInputs(dir)) === hash) return dir;
    await execa(venvPython(), [buildChannelScript, dir], { stdio: ["ignore", "inherit", "inherit"] });
    return dir;
  })();
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

/** The invocations recorded in a $RATTLER_MAMBA_LOG file, one argv (without the program) each. */
export async function readInstallerLog(path: string): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as string[]);
}
