/**
 * btd-mount against real squashfuse and mksquashfs images: several jobs on
 * one host share a mount, a SIGKILLed job does not keep it forever, a wrong
 * image is refused before mounting, and the full hash check is cached.
 * Jobs wait on fifos the test writes to, so every step is synchronised.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, link, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrefixState } from "../../../provider/mount/holders.ts";
import { hashCacheFile } from "../../../provider/mount/image-hash-cache.ts";
import { mountAt, parseMountInfo } from "../../../provider/mount/mount-table.ts";
import { isRunning } from "../../../provider/mount/process-liveness.ts";
import { prefixFiles } from "../../../provider/mount/state-dir.ts";

const CLI = resolve(import.meta.dirname, "../../../provider/cli/btd-mount.ts");
const WAIT_MS = 20_000;

let dir: string;
let stateDir: string;
let image: string;
let otherImage: string;
let sha256: string;
let fifoCount = 0;
/** A second OS user for the cross-user case, when useradd works here. */
let otherUser: string | undefined;
const started: Job[] = [];

interface Job {
  proc: ResultPromise<{ detached: true; reject: false; all: true }>;
  fifo: string;
  output: () => string;
  exited: () => boolean;
}

async function buildImage(name: string, data: string): Promise<{ path: string; sha256: string }> {
  const src = join(dir, `src-${name}`);
  await mkdir(join(src, "bin"), { recursive: true });
  await mkdir(join(src, "share"), { recursive: true });
  await writeFile(join(src, "bin/greet"), '#!/bin/sh\necho "greet from $CONDA_PREFIX"\n', { mode: 0o755 });
  await writeFile(join(src, "share/data.txt"), `${data}\n`);
  const raw = join(dir, `${name}.raw.sqsh`);
  await execa("mksquashfs", [src, raw, "-noappend", "-quiet", "-all-root"]);
  const hex = execFileSync("sha256sum", [raw], { encoding: "utf8" }).slice(0, 64);
  const path = join(dir, "filer", `${name}-${hex.slice(0, 12)}.sqsh`);
  await mkdir(join(dir, "filer"), { recursive: true });
  await copyFile(raw, path);
  return { path, sha256: hex };
}

function helper(args: string[], opts: { as?: string } = {}) {
  const base = [CLI, "--state-dir", stateDir, "--verbose", ...args];
  const [file, argv] = opts.as
    ? ["runuser", ["-u", opts.as, "--", join(dir, "node"), ...base]]
    : [process.execPath, base];
  return execa(file, argv, { detached: true, reject: false, all: true, cwd: dir });
}

/** A job that shows what it sees in the env, then blocks until the test writes its fifo. */
async function startJob(prefix: string, opts: { image?: string; as?: string } = {}): Promise<Job> {
  const fifo = join(dir, `fifo-${++fifoCount}`);
  execFileSync("mkfifo", ["-m", "666", fifo]);
  const script = 'greet; cat "$CONDA_PREFIX/share/data.txt"; echo ready; read x < "$1"; echo "released $x"';
  const proc = helper(
    ["--image", opts.image ?? image, "--prefix", prefix, "--", "sh", "-c", script, "job", fifo],
    opts,
  );
  let out = "";
  proc.all?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  let exited = false;
  void proc.then(() => {
    exited = true;
  });
  const job: Job = { proc, fifo, output: () => out, exited: () => exited };
  started.push(job);
  await until(() => out.includes("ready") || exited, "the job to be ready");
  if (!out.includes("ready")) throw new Error(`job failed to start:\n${out}`);
  return job;
}

async function release(job: Job): Promise<number | undefined> {
  await writeFile(job.fifo, "go\n");
  return (await job.proc).exitCode;
}

async function killGroup(job: Job): Promise<void> {
  process.kill(-(job.proc.pid ?? 0), "SIGKILL");
  await job.proc;
}

async function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stateOf(prefix: string): Promise<PrefixState> {
  return JSON.parse(await readFile(prefixFiles(stateDir, prefix).state, "utf8")) as PrefixState;
}

async function mountsAt(prefix: string): Promise<number> {
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8")).filter((e) => e.mountPoint === prefix)
    .length;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "btd-mount-"));
  await chmod(dir, 0o755);
  stateDir = join(dir, "state");
  ({ path: image, sha256 } = await buildImage("meanrev-1.0.0-py311", "version one"));
  ({ path: otherImage } = await buildImage("meanrev-1.1.0-py311", "version two"));
  const name = `btdmount${process.pid}`;
  if ((await execa("useradd", ["--system", "--no-create-home", name], { reject: false })).exitCode === 0) {
    otherUser = name;
    // The test's node lives under /root (0700): give the other user a path it may run.
    await link(process.execPath, join(dir, "node")).catch(() =>
      copyFile(process.execPath, join(dir, "node")),
    );
  }
});

afterAll(async () => {
  if (!dir) return;
  // Jobs a failed test left waiting on their fifo.
  for (const j of started) {
    if (!j.exited() && j.proc.pid) {
      try {
        process.kill(-j.proc.pid, "SIGKILL");
      } catch {}
      await j.proc;
    }
  }
  await execa(process.execPath, [CLI, "--gc", "--state-dir", stateDir], { reject: false });
  for (const e of parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"))) {
    if (e.mountPoint.startsWith(dir))
      await execa("fusermount3", ["-u", "-z", e.mountPoint], { reject: false });
  }
  await rm(dir, { recursive: true, force: true });
  if (otherUser) await execa("userdel", [otherUser], { reject: false });
});

describe("btd-mount", () => {
  it("lets four concurrent jobs share one mount, survives one killed, unmounts after the last", async () => {
    const prefix = join(dir, "envs/shared");
    const jobs = await Promise.all([0, 1, 2, 3].map(() => startJob(prefix)));
    for (const j of jobs) {
      expect(j.output()).toContain(`greet from ${prefix}`);
      expect(j.output()).toContain("version one");
    }
    expect(await mountsAt(prefix)).toBe(1);
    expect((await stateOf(prefix)).holders).toHaveLength(4);

    const [a, killed, c, d] = jobs as [Job, Job, Job, Job];
    await killGroup(killed);
    expect(await mountAt(prefix)).toBeDefined();

    expect(await release(a)).toBe(0);
    expect(a.output()).toContain("released go");
    expect(a.output()).toContain(`pruned holder btd-mount pid ${killed.proc.pid}`);
    expect(await mountAt(prefix)).toBeDefined();
    expect((await stateOf(prefix)).holders.map((h) => h.helper.pid).sort()).toEqual(
      [c.proc.pid, d.proc.pid].sort(),
    );

    expect(await release(c)).toBe(0);
    expect(await mountAt(prefix)).toBeDefined();
    expect(await release(d)).toBe(0);
    expect(await mountAt(prefix)).toBeUndefined();
    const state = await stateOf(prefix);
    expect(state.holders).toEqual([]);
    expect(state.image).toBeUndefined();
  });

  it("a job killed while it is the last user: the next job prunes it and unmounts when done", async () => {
    const prefix = join(dir, "envs/next-join");
    const victim = await startJob(prefix);
    await killGroup(victim);
    expect(await mountAt(prefix)).toBeDefined();
    const next = await helper([
      "--image",
      image,
      "--prefix",
      prefix,
      "--",
      "cat",
      join(prefix, "share/data.txt"),
    ]);
    expect(next.exitCode).toBe(0);
    expect(next.all).toContain("version one");
    expect(next.all).toContain(`pruned holder btd-mount pid ${victim.proc.pid}`);
    expect(next.all).toContain("joining the mount");
    expect(await mountAt(prefix)).toBeUndefined();
  });

  it("--gc unmounts a prefix whose only job was killed, and keeps one whose command still runs", async () => {
    const deadPrefix = join(dir, "envs/gc-dead");
    const livePrefix = join(dir, "envs/gc-live");
    const dead = await startJob(deadPrefix);
    await killGroup(dead);
    // Only the helper dies here: its command still reads from the mount and must keep it.
    const orphaned = await startJob(livePrefix);
    process.kill(orphaned.proc.pid ?? 0, "SIGKILL");

    const gc = await helper(["--gc"]);
    expect(gc.exitCode).toBe(0);
    expect(gc.all).toContain(`unmounted ${deadPrefix}`);
    expect(await mountAt(deadPrefix)).toBeUndefined();
    expect(await mountAt(livePrefix)).toBeDefined();

    await writeFile(orphaned.fifo, "go\n");
    await until(async () => {
      const holder = (await stateOf(livePrefix)).holders[0];
      return holder?.command !== undefined && !isRunning(holder.command);
    }, "the orphaned command to end");
    const again = await helper(["--gc"]);
    expect(again.all).toContain(`unmounted ${livePrefix}`);
    expect(await mountAt(livePrefix)).toBeUndefined();
  });

  it("refuses an image whose content differs from its name or --sha256, before mounting", async () => {
    const prefix = join(dir, "envs/wrong");
    const forged = join(dir, "filer/meanrev-1.0.0-py311-000000000000.sqsh");
    await copyFile(image, forged);
    const marker = join(dir, "ran");
    const byName = await helper(["--image", forged, "--prefix", prefix, "--", "touch", marker]);
    expect(byName.exitCode).toBe(125);
    expect(byName.all).toContain("BTD_MOUNT_HASH_MISMATCH");
    expect(byName.all).toContain(`has sha256 ${sha256}`);
    expect(byName.all).not.toContain("mounting /");

    const bySha = await helper([
      "--image",
      image,
      "--prefix",
      prefix,
      "--sha256",
      "a".repeat(64),
      "--",
      "touch",
      marker,
    ]);
    expect(bySha.exitCode).toBe(125);
    expect(bySha.all).toContain("BTD_MOUNT_HASH_CONFLICT");
    expect(existsSync(marker)).toBe(false);
    expect(await mountAt(prefix)).toBeUndefined();
  });

  it("reads the whole image once per host: later jobs use the cache until the file changes", async () => {
    const fresh = join(dir, `filer/cachetest-2.0.0-py311-${sha256.slice(0, 12)}.sqsh`);
    await copyFile(image, fresh);
    const prefix = join(dir, "envs/cache");
    const run = () => helper(["--image", fresh, "--prefix", prefix, "--sha256", sha256, "--", "true"]);

    const first = await run();
    expect(first.exitCode).toBe(0);
    expect(first.all).toContain("image hash computed");
    const entry = JSON.parse(await readFile(hashCacheFile(stateDir, fresh), "utf8")) as { sha256: string };
    expect(entry.sha256).toBe(sha256);

    const second = await run();
    expect(second.exitCode).toBe(0);
    expect(second.all).toContain("image hash from host cache");
    expect(second.all).not.toContain("image hash computed");

    // A file replaced under the same name (new mtime) is read again.
    await utimes(fresh, new Date(), new Date(Date.now() + 5_000));
    const third = await run();
    expect(third.all).toContain("image hash computed");
  });

  it("refuses a non-empty folder and a prefix where another image is mounted", async () => {
    const full = join(dir, "envs/full");
    await mkdir(full, { recursive: true });
    await writeFile(join(full, "leftover"), "x");
    const r = await helper(["--image", image, "--prefix", full, "--", "true"]);
    expect(r.exitCode).toBe(125);
    expect(r.all).toContain("BTD_MOUNT_PREFIX_NOT_EMPTY");
    expect(await mountAt(full)).toBeUndefined();

    const prefix = join(dir, "envs/taken");
    const holder = await startJob(prefix);
    const other = await helper(["--image", otherImage, "--prefix", prefix, "--", "true"]);
    expect(other.exitCode).toBe(125);
    expect(other.all).toContain("BTD_MOUNT_OTHER_IMAGE");
    expect(other.all).toContain(`${prefix} has ${image} mounted, used by 1 running job`);
    expect(await release(holder)).toBe(0);

    // Once nobody uses it, the other image may take the prefix.
    const next = await helper([
      "--image",
      otherImage,
      "--prefix",
      prefix,
      "--",
      "cat",
      join(prefix, "share/data.txt"),
    ]);
    expect(next.exitCode).toBe(0);
    expect(next.all).toContain("version two");
  });

  it("passes the command's exit status and forwards signals to it", async () => {
    const prefix = join(dir, "envs/status");
    const failing = await helper(["--image", image, "--prefix", prefix, "--", "sh", "-c", "exit 7"]);
    expect(failing.exitCode).toBe(7);
    const job = await startJob(prefix);
    process.kill(job.proc.pid ?? 0, "SIGTERM");
    const r = await job.proc;
    expect(r.exitCode).toBe(128 + 15);
    expect(await mountAt(prefix)).toBeUndefined();
  });

  it.skipIf(process.getuid?.() !== 0)("shares a mount between jobs of two OS users", async (ctx) => {
    if (!otherUser) {
      ctx.skip();
      return;
    }
    const prefix = join(dir, "envs/users");
    const rootJob = await startJob(prefix);
    const userJob = await startJob(prefix, { as: otherUser });
    expect(userJob.output()).toContain("version one");
    expect(userJob.output()).toContain("joining the mount");
    const uid = Number(execFileSync("id", ["-u", otherUser], { encoding: "utf8" }).trim());
    expect((await stateOf(prefix)).holders.map((h) => h.uid).sort()).toEqual([0, uid].sort());

    expect(await release(rootJob)).toBe(0);
    expect(await mountAt(prefix)).toBeDefined();
    expect(await release(userJob)).toBe(0);
    // FUSE lets only the user who mounted (here root) unmount: the last job of another
    // user leaves the mount for the next job or for --gc run by root.
    expect(userJob.output()).toContain(`could not unmount ${prefix}`);
    expect(await mountAt(prefix)).toBeDefined();
    const gc = await helper(["--gc"]);
    expect(gc.all).toContain(`unmounted ${prefix}`);
    expect(await mountAt(prefix)).toBeUndefined();
  });
});
