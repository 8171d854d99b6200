import { chmod, copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FilerMode, RrsyncFlavour } from "./types.ts";

const PYTHON = "/usr/bin/python3";
const DEBIAN_RRSYNC = "/usr/bin/rrsync";
const LEGACY_RRSYNC_SOURCE = new URL("./legacy-rrsync.py", import.meta.url);

export interface ForcedCommandOptions {
  /** Folder the scripts are written to. */
  binDir: string;
  /** JSON-lines file that receives one {"cmd": SSH_ORIGINAL_COMMAND} per login. */
  logPath: string;
  root: string;
  mode: FilerMode;
  noLock: boolean;
  rrsync: RrsyncFlavour;
}

/**
 * Writes the script that authorized_keys forces every login into: it records
 * SSH_ORIGINAL_COMMAND (the server-side command line rsync chose, which is what
 * rrsync judges) and then execs rrsync, so rrsync sees the login unchanged.
 * Returns the script's path.
 */
export async function writeForcedCommand(options: ForcedCommandOptions): Promise<string> {
  const rrsyncArgv = await rrsyncCommandLine(options);
  const script = join(options.binDir, "forced-command");
  // JSON string literals are valid Python string literals, which keeps paths quoted safely.
  const text = `#!${PYTHON} -I
import json, os
line = json.dumps({"cmd": os.environ.get("SSH_ORIGINAL_COMMAND")}) + "\\n"
fd = os.open(${JSON.stringify(options.logPath)}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, line.encode())  # one write per line, so concurrent logins never interleave
os.close(fd)
argv = ${JSON.stringify(rrsyncArgv)}
os.execv(argv[0], argv)
`;
  await writeFile(script, text, { mode: 0o755 });
  return script;
}

async function rrsyncCommandLine(options: ForcedCommandOptions): Promise<string[]> {
  if (options.rrsync === "python") {
    return [DEBIAN_RRSYNC, ...pythonRrsyncFlags(options.mode, options.noLock), options.root];
  }
  // The old script knows only -ro/-wo and never locks, so -no-lock is simply what it does.
  if (options.mode === "no-del") {
    throw new Error(
      'startFiler: mode "no-del" needs the Python rrsync; the legacy one knows only -ro and -wo',
    );
  }
  const legacy = join(options.binDir, "rrsync-3.2.3");
  await copyFile(LEGACY_RRSYNC_SOURCE, legacy);
  await chmod(legacy, 0o755);
  const modeFlags = options.mode === "rw" ? [] : [`-${options.mode}`];
  return [PYTHON, "-I", legacy, ...modeFlags, options.root];
}

function pythonRrsyncFlags(mode: FilerMode, noLock: boolean): string[] {
  const flags = mode === "rw" ? [] : [`-${mode}`];
  if (noLock) flags.push("-no-lock");
  return flags;
}
