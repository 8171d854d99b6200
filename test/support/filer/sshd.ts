import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { findFreePort } from "./free-port.ts";
import { waitFor } from "./wait-for.ts";

const SSHD = "/usr/sbin/sshd";
// Compiled into Debian's sshd; it refuses to start without it (the init script makes it).
const PRIVSEP_DIR = "/run/sshd";
const PORT_ATTEMPTS = 5;

export interface SshdOptions {
  /** The sandbox's temporary folder: config, pid file and log go here. */
  dir: string;
  hostKeyPath: string;
  authorizedKeysPath: string;
  timeoutMs: number;
}

export interface RunningSshd {
  port: number;
  logPath: string;
  stop(): Promise<void>;
}

/** Starts a private sshd on a free loopback port and returns once it listens. */
export async function startSshd(options: SshdOptions): Promise<RunningSshd> {
  await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const logPath = join(options.dir, "sshd.log");
  let lastLog = "";
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await findFreePort();
    const configPath = join(options.dir, "sshd_config");
    await writeFile(configPath, renderSshdConfig({ ...options, port }));
    await writeFile(logPath, "");
    const child = execa(SSHD, ["-D", "-e", "-f", configPath], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: { file: logPath, append: true },
      reject: false,
    });
    const watched = watchExit(child);
    const listening = await waitForListening(watched, logPath, port, options.timeoutMs);
    if (listening) return { port, logPath, stop: () => stopChild(watched) };
    lastLog = await readFile(logPath, "utf8");
    // Another process took the port between our probe and sshd's bind: pick another.
    if (!/Address already in use/.test(lastLog)) break;
  }
  throw new Error(`sshd did not start; its log (${logPath}):\n${lastLog}`);
}

function renderSshdConfig(o: SshdOptions & { port: number }): string {
  return `${[
    `Port ${o.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${o.hostKeyPath}`,
    `PidFile ${join(o.dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${o.authorizedKeysPath}`,
    // The temp folder is world-readable /tmp territory; sshd's ownership checks would refuse it.
    "StrictModes no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    "PrintMotd no",
    "LogLevel INFO",
    // Tests push in parallel; the default 10:30:100 drops some connections under load.
    "MaxStartups 100",
  ].join("\n")}\n`;
}

interface WatchedChild {
  child: ResultPromise;
  // execa's subprocess leaves ChildProcess.exitCode undefined, so exit is tracked here.
  exited: boolean;
}

function watchExit(child: ResultPromise): WatchedChild {
  const watched = { child, exited: false };
  void child.then(() => {
    watched.exited = true;
  });
  return watched;
}

/** true once sshd logs that it listens; false if it exited first (e.g. the port was taken). */
async function waitForListening(
  watched: WatchedChild,
  logPath: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const needle = `Server listening on 127.0.0.1 port ${port}.`;
  try {
    return await waitFor(
      async () => {
        const log = await readFile(logPath, "utf8");
        if (log.includes(needle)) return true;
        if (watched.exited) return false;
        return undefined;
      },
      { what: `sshd to log "${needle}"`, timeoutMs },
    );
  } catch (error) {
    watched.child.kill("SIGKILL");
    await watched.child;
    throw error;
  }
}

async function stopChild(watched: WatchedChild): Promise<void> {
  if (watched.exited) return;
  watched.child.kill("SIGTERM");
  await watched.child;
}
