/**
 * The demo's sandbox, as one long-running process: a filer (sshd + rrsync),
 * the Jenkins stand-in and the local conda channel. It writes what a program
 * needs to reach them to <dir>/sandbox.json (mode 0600: it holds the sandbox's
 * deploy key) and runs until SIGTERM/SIGINT, then stops everything.
 *
 * Usage: node test/support/sandbox/serve.ts <dir>
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureChannel, installerPath } from "../conda/index.ts";
import { startFiler } from "../filer/index.ts";
import { startJenkins } from "../jenkins/index.ts";
import { type SandboxInfo, sandboxInfoOf } from "./info.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: serve.ts <dir>");
await mkdir(dir, { recursive: true });
const infoPath = join(dir, "sandbox.json");
await rm(infoPath, { force: true });

const channel = await ensureChannel();
const filer = await startFiler();
const jenkins = await startJenkins();

const info: SandboxInfo = {
  ...sandboxInfoOf(
    filer,
    jenkins,
    { channel, installer: installerPath },
    join(filer.root, "..", "commands.jsonl"),
  ),
};
await writeFile(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
process.stdout.write(`sandbox ready: ${infoPath}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([filer.stop(), jenkins.stop()]);
  await rm(infoPath, { force: true });
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// Keep the event loop alive until told to stop.
setInterval(() => undefined, 1 << 30);
