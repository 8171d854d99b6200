/**
 * Starts the demo's sandbox in the background (or finds it running) and
 * stops it: `node test/support/sandbox/control.ts start|stop|status [dir]`.
 * The sandbox keeps running between demo runs, so a second `pulumi up`
 * meets the same filer and Jenkins and changes nothing.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { SandboxInfo } from "./info.ts";

const SERVE = fileURLToPath(new URL("./serve.ts", import.meta.url));
export const DEFAULT_SANDBOX_DIR = resolve(fileURLToPath(new URL("../../../.sandbox", import.meta.url)));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function readSandbox(dir = DEFAULT_SANDBOX_DIR): Promise<SandboxInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(dir, "sandbox.json"), "utf8")) as SandboxInfo;
    return alive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  logPath: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(`sandbox: ${what} did not happen within ${timeoutMs / 1000}s; its log says:\n${log}`);
    }
    await delay(200);
  }
}

export async function startSandbox(dir = DEFAULT_SANDBOX_DIR): Promise<SandboxInfo> {
  const running = await readSandbox(dir);
  if (running) return running;
  await mkdir(dir, { recursive: true });
  const logPath = join(dir, "sandbox.log");
  const log = openSync(logPath, "a");
  // Detached, so the sandbox outlives this command and the demo run.
  const child = spawn(process.execPath, ["--no-warnings", SERVE, dir], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  child.unref();
  return waitFor("start", () => readSandbox(dir), 120_000, logPath);
}

export async function stopSandbox(dir = DEFAULT_SANDBOX_DIR): Promise<boolean> {
  const running = await readSandbox(dir);
  if (!running) return false;
  process.kill(running.pid, "SIGTERM");
  await waitFor(
    "stop",
    async () => (alive(running.pid) ? undefined : true),
    30_000,
    join(dir, "sandbox.log"),
  );
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command = "status", dir = DEFAULT_SANDBOX_DIR] = process.argv.slice(2);
  if (command === "start") {
    const info = await startSandbox(dir);
    console.log(
      `sandbox running (pid ${info.pid}): filer ${info.filer.host}:${info.filer.port} root ${info.filer.root}, Jenkins ${info.jenkins.url}`,
    );
  } else if (command === "stop") {
    console.log((await stopSandbox(dir)) ? "sandbox stopped" : "no sandbox running");
  } else {
    const info = await readSandbox(dir);
    console.log(info ? `sandbox running (pid ${info.pid})` : "no sandbox running");
  }
}
