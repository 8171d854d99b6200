import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeForcedCommand } from "./forced-command.ts";
import { generateKeyPair } from "./ssh-keys.ts";
import { startSshd } from "./sshd.ts";
import type { Filer, FilerOptions, RsyncSshCommandOptions } from "./types.ts";

const HOST = "127.0.0.1";
const USER = "root";

/**
 * Starts a filer: a private OpenSSH sshd on loopback whose only authorized key is
 * forced into rrsync over a fresh root folder, like a deploy account on a real filer.
 */
export async function startFiler(options: FilerOptions = {}): Promise<Filer> {
  const mode = options.mode ?? "rw";
  const rrsync = options.rrsync ?? "python";
  const dir = await mkdtemp(join(tmpdir(), "btd-filer-"));
  try {
    const root = join(dir, "root");
    const binDir = join(dir, "bin");
    const clientDir = join(dir, "client");
    await Promise.all([mkdir(root), mkdir(binDir), mkdir(clientDir, { mode: 0o700 })]);
    const [hostKey, otherHostKey, deployKey] = await Promise.all([
      generateKeyPair(join(dir, "ssh_host_ed25519_key")),
      generateKeyPair(join(dir, "other_host_ed25519_key")),
      generateKeyPair(join(clientDir, "id_ed25519")),
    ]);
    const commandLogPath = join(dir, "commands.jsonl");
    await writeFile(commandLogPath, "");
    const forcedCommand = await writeForcedCommand({
      binDir,
      logPath: commandLogPath,
      root,
      mode,
      noLock: options.noLock ?? false,
      rrsync,
    });
    const authorizedKeysPath = join(dir, "authorized_keys");
    await writeFile(authorizedKeysPath, `restrict,command="${forcedCommand}" ${deployKey.publicKey}\n`);
    const sshd = await startSshd({
      dir,
      hostKeyPath: hostKey.path,
      authorizedKeysPath,
      timeoutMs: options.startTimeoutMs ?? 10_000,
    });
    const port = sshd.port;
    const knownHostsLine = (key: string = hostKey.publicKey): string => `[${HOST}]:${port} ${key}`;

    return {
      host: HOST,
      port,
      user: USER,
      privateKey: deployKey.privateKey,
      publicKey: deployKey.publicKey,
      hostKey: hostKey.publicKey,
      hostKeyFingerprint: hostKey.fingerprint,
      otherHostKey: otherHostKey.publicKey,
      root,
      sshdLogPath: sshd.logPath,
      mode,
      rrsync,
      commandLog: () => readCommandLog(commandLogPath),
      clearCommandLog: () => writeFile(commandLogPath, ""),
      knownHostsLine,
      rsyncSshCommand: (o?: RsyncSshCommandOptions) =>
        openSshCommand({ clientDir, port, keyPath: deployKey.path, line: knownHostsLine(o?.pinnedHostKey) }),
      remote: (path = "") => `${USER}@${HOST}:${path}`,
      stop: async () => {
        await sshd.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function readCommandLog(path: string): Promise<string[]> {
  const text = await readFile(path, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const entry: unknown = JSON.parse(line);
      const cmd = typeof entry === "object" && entry !== null && "cmd" in entry ? entry.cmd : null;
      // A login without a command (plain `ssh host`) is logged as null; show it as "".
      return typeof cmd === "string" ? cmd : "";
    });
}

interface OpenSshCommandInput {
  clientDir: string;
  port: number;
  keyPath: string;
  /** The single known_hosts line this command pins. */
  line: string;
}

/**
 * Sync so tests can build a command inline; each distinct pin gets its own known_hosts
 * file, so asking for a wrong pin never disturbs the right one.
 */
function openSshCommand(input: OpenSshCommandInput): string {
  const name = createHash("sha256").update(input.line).digest("hex").slice(0, 12);
  const knownHosts = join(input.clientDir, `known_hosts.${name}`);
  writeFileSync(knownHosts, `${input.line}\n`);
  return [
    "ssh",
    "-F /dev/null",
    `-i ${input.keyPath}`,
    `-p ${input.port}`,
    "-o IdentitiesOnly=yes",
    `-o UserKnownHostsFile=${knownHosts}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o UpdateHostKeys=no",
    "-o BatchMode=yes",
    "-o LogLevel=ERROR",
  ].join(" ");
}
