/**
 * Deploys killed while bytes are in flight never leave a partial file at the
 * final path, and the next run converges. Each upload runs in its own process
 * group (upload-child.ts), throttled with --bwlimit so it is surely mid-
 * transfer; once rsync's temp file exists on the filer it is killed after a
 * random delay: the whole group (Node parent, rsync, shim) or only the Node
 * parent that holds the ssh2 connection (rsync and the shim are orphaned and
 * must fail on their own).
 */
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { filerArtifactOps as ops } from "../../../provider/filer-artifact.ts";
import { type Filer, startFiler } from "../../support/filer/index.ts";
import { connection, ctxFor, tempFile } from "./helpers.ts";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "upload-child.ts");
const RUNS = 20;
const AT_ONCE = 4;
const SIZE = 1024 * 1024;
const BWLIMIT_KIB = 128; // ~8 s for the whole file: every kill below lands mid-transfer

let filer: Filer;
beforeAll(async () => {
  // No lock, so several killed deploys can be in flight at once (the lock has its own test).
  filer = await startFiler({ mode: "rw", noLock: true });
});
afterAll(async () => filer?.stop());

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function killedThenConverged(run: number, src: string, bytes: Buffer): Promise<void> {
  const news = {
    btdName: `kill${run}`,
    ...connection(filer),
    source: src,
    remotePath: `kill/r${run}/img-{sha12}.sqsh`,
  };
  const checked = await ops.check({}, news, ctxFor(`kill${run}`));
  const relPath = checked.inputs?.remotePath as string;
  const folder = join(filer.root, dirname(relPath));
  const finalPath = join(filer.root, relPath);
  const tempPrefix = `.${basename(relPath)}.`;

  // Watches the final path the whole time: whatever is ever there must be the complete file.
  const partials: number[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      if (existsSync(finalPath)) {
        const seen = await readFile(finalPath).catch(() => undefined);
        if (seen && !seen.equals(bytes)) partials.push(seen.length);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const child = spawn(process.execPath, ["--no-warnings", CHILD], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
    env: { ...process.env, BTD_FILER_BWLIMIT_KIB: String(BWLIMIT_KIB) },
  });
  const pgid = child.pid as number;
  child.stdin.end(JSON.stringify(news));
  const temp = await until("rsync's temp file on the filer", 20_000, async () => {
    const names = await readdir(folder).catch(() => [] as string[]);
    return names.find((n) => n.startsWith(tempPrefix));
  });
  await new Promise((r) => setTimeout(r, randomInt(0, 500)));
  const tempAtKill = existsSync(join(folder, temp));
  const killWhole = run % 2 === 0;
  // Odd runs kill only the Node parent holding the ssh2 connection; rsync and the shim are orphaned.
  if (killWhole) process.kill(-pgid, "SIGKILL");
  else process.kill(pgid, "SIGKILL");
  expect(tempAtKill, `run ${run}: rsync's temp file existed at the kill`).toBe(true);
  await until("the killed deploy's processes to go", 20_000, async () =>
    groupAlive(pgid) ? undefined : true,
  );
  expect(existsSync(finalPath), `run ${run}: nothing at the final path after the kill`).toBe(false);
  // The next run converges: the file is there, whole and verified.
  const created = await ops.create(checked.inputs as Record<string, unknown>, ctxFor(`kill${run}`));
  expect(created.outs.sizeBytes).toBe(SIZE);
  expect((await readFile(finalPath)).equals(bytes)).toBe(true);
  watching = false;
  await watcher;
  expect(partials, `run ${run}: partial files seen at the final path`).toEqual([]);
}

it(`${RUNS} uploads killed mid-transfer never leave a partial file, and the next run converges`, async () => {
  const bytes = randomBytes(SIZE);
  const src = await tempFile(bytes);
  let next = 0;
  const worker = async () => {
    while (next < RUNS) await killedThenConverged(next++, src, bytes);
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}, 120_000);
