/**
 * Upload benchmark, side by side in one run against the sandbox filer
 * (OpenSSH sshd + Debian's rrsync on loopback):
 *  - throughput: FilerArtifact's create (push + checksum verify, as the
 *    provider runs it) and its push alone through our ssh2 tunnel, against
 *    `rsync -e "<OpenSSH>"` with the same flags; interleaved runs, medians,
 *    ratio (target: push ≤ 1.1x OpenSSH);
 *  - peak memory of our processes (the Node process running the op, the
 *    remote-shell shim and the local rsync it drives), from
 *    /proc/<pid>/status VmHWM (target < 200 MB);
 *  - delta: a second squashfs image differing from the first in one 20 MiB
 *    package folder, uploaded as the update of the first: bytes sent
 *    relative to the image size (target ≤ 25%).
 *
 * Usage: node scripts/bench/upload.ts [--size-mib 1024] [--runs 3] [--source]
 * "Ours" runs the compiled package (dist/, what Pulumi loads; build it first)
 * unless --source is given or dist/ is missing.
 * Each of our ops runs in a process of its own (scripts/bench/upload-op.mjs).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { Props } from "../../provider/context.ts";
import { pushArgs, REMOTE } from "../../provider/filer/rsync-args.ts";
import { type Filer, startFiler } from "../../test/support/filer/index.ts";

const OP = fileURLToPath(new URL("./upload-op.mjs", import.meta.url));
const PACKAGE_MIB = 20;
// Pulumi loads the compiled package, so "ours" runs dist/ when it is built (npx tsc -p tsconfig.build.json).
const useDist =
  existsSync(fileURLToPath(new URL("../../dist/provider/filer-artifact.js", import.meta.url))) &&
  !process.argv.includes("--source");

/** What scripts/bench/upload-op.mjs reads on stdin and prints. */
interface OpRequest {
  op: "create" | "push" | "update";
  news: Props;
  olds?: Props;
}
interface OpResult {
  ms: number;
  bytesSent?: number;
  outs?: Props;
}

async function vmHwmKiB(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const m = /VmHWM:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Child processes, recursively: /proc/<pid>/task/<pid>/children is cheap, unlike scanning /proc. */
async function descendants(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const kids = text.split(/\s+/).filter(Boolean).map(Number);
  const deeper = await Promise.all(kids.map(descendants));
  return [...kids, ...deeper.flat()];
}

interface Measured extends OpResult {
  parentPeakKiB: number;
  shimPeakKiB: number;
  rsyncPeakKiB: number;
}

/** Runs one op in a child process, sampling VmHWM of it and of its shim processes. */
async function runOurs(req: OpRequest): Promise<Measured> {
  const proc = spawn(process.execPath, ["--no-warnings", OP, ...(useDist ? [] : ["--source"])], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  proc.stdin.end(JSON.stringify(req));
  const out: Buffer[] = [];
  proc.stdout.on("data", (d: Buffer) => out.push(d));
  let parentPeak = 0;
  let shimPeak = 0;
  let rsyncPeak = 0;
  let done = false;
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  const sampler = (async () => {
    while (!done) {
      parentPeak = Math.max(parentPeak, await vmHwmKiB(proc.pid as number));
      for (const pid of await descendants(proc.pid as number)) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        // rsync's own command line names the shim too (its -e): tell them apart by argv[0].
        const argv0 = cmd.split("\0")[0] ?? "";
        if (argv0.endsWith("rsync")) rsyncPeak = Math.max(rsyncPeak, await vmHwmKiB(pid));
        else if (cmd.includes("ssh-shim")) shimPeak = Math.max(shimPeak, await vmHwmKiB(pid));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const code = await exited;
  done = true;
  await sampler;
  if (code !== 0) throw new Error(`bench child failed with exit ${code}`);
  return {
    ...(JSON.parse(Buffer.concat(out).toString("utf8")) as OpResult),
    parentPeakKiB: parentPeak,
    shimPeakKiB: shimPeak,
    rsyncPeakKiB: rsyncPeak,
  };
}

async function runOpenSsh(filer: Filer, stageDir: string, relPath: string, fuzzy = false): Promise<OpResult> {
  const args = pushArgs({
    stageDir,
    relPath,
    folder: false,
    mode: "0644",
    checksum: true,
    fuzzy,
    dryRun: false,
    timeoutSeconds: 300,
  });
  const remote = args.map((a) => (a.startsWith(REMOTE) ? filer.remote(a.slice(REMOTE.length)) : a));
  const t0 = performance.now();
  const r = await execa("rsync", ["-e", filer.rsyncSshCommand(), ...remote]);
  const m = /Total bytes sent: ([\d,]+)/.exec(r.stdout);
  return {
    ms: performance.now() - t0,
    bytesSent: m ? Number((m[1] as string).replace(/,/g, "")) : undefined,
  };
}

/** A tree of "package" folders of incompressible data, and its squashfs image (reproducible flags). */
async function buildImage(tree: string, image: string): Promise<void> {
  await execa("mksquashfs", [
    tree,
    image,
    "-noappend",
    "-all-root",
    "-mkfs-time",
    "0",
    "-all-time",
    "0",
    "-comp",
    "lz4",
    "-quiet",
    "-no-progress",
  ]);
}

async function writePackage(dir: string, mib: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < mib; i++) await writeFile(join(dir, `lib-${i}.so`), randomBytes(1024 * 1024));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "size-mib": { type: "string", default: "1024" },
      runs: { type: "string", default: "3" },
      source: { type: "boolean", default: false },
    },
  });
  const sizeMib = Number(values["size-mib"]);
  const runs = Number(values.runs);
  const work = await mkdtemp(join(tmpdir(), "btd-bench-upload-"));
  const filer = await startFiler({ mode: "rw" });
  try {
    const packages = Math.max(2, Math.round(sizeMib / PACKAGE_MIB));
    console.log(
      `building two squashfs images of ${packages} x ${PACKAGE_MIB} MiB packages (one package differs)…`,
    );
    const tree = join(work, "tree");
    for (let p = 0; p < packages; p++)
      await writePackage(join(tree, `pkgs/pkg-${String(p).padStart(3, "0")}`), PACKAGE_MIB);
    const imageA = join(work, "a.sqsh");
    await buildImage(tree, imageA);
    const changed = join(tree, `pkgs/pkg-${String(Math.floor(packages / 2)).padStart(3, "0")}`);
    await rm(changed, { recursive: true });
    await writePackage(changed, PACKAGE_MIB);
    const imageB = join(work, "b.sqsh");
    await buildImage(tree, imageB);
    const sizeA = (await stat(imageA)).size;
    const sizeB = (await stat(imageB)).size;
    console.log(
      `ours: ${useDist ? "compiled package (dist/)" : "TypeScript sources (no dist/ or --source)"}`,
    );
    console.log(
      `image A ${(sizeA / 2 ** 20).toFixed(0)} MiB, image B ${(sizeB / 2 ** 20).toFixed(0)} MiB; ${runs} interleaved runs\n`,
    );

    const conn = {
      host: filer.host,
      port: filer.port,
      user: filer.user,
      privateKey: filer.privateKey,
      hostKeys: [filer.hostKey],
    };
    const stage = join(work, "stage");
    await mkdir(join(stage, "envs"), { recursive: true });
    await execa("ln", ["-sf", imageA, join(stage, "envs/push.sqsh")]);
    const rows: Record<string, number[]> = { openssh: [], push: [], create: [] };
    let parentPeak = 0;
    let shimPeak = 0;
    let rsyncPeak = 0;
    const wipe = () => rm(join(filer.root, "envs"), { recursive: true, force: true });
    for (let r = 0; r < runs; r++) {
      await wipe();
      rows.openssh?.push((await runOpenSsh(filer, stage, "envs/push.sqsh")).ms);
      await wipe();
      const push = await runOurs({
        op: "push",
        news: { btdName: "bench", ...conn, source: imageA, remotePath: "envs/push.sqsh", stageDir: stage },
      });
      rows.push?.push(push.ms);
      await wipe();
      const create = await runOurs({
        op: "create",
        news: { btdName: "bench", ...conn, source: imageA, remotePath: "envs/img-{sha12}.sqsh" },
      });
      rows.create?.push(create.ms);
      for (const m of [push, create]) {
        parentPeak = Math.max(parentPeak, m.parentPeakKiB);
        shimPeak = Math.max(shimPeak, m.shimPeakKiB);
        rsyncPeak = Math.max(rsyncPeak, m.rsyncPeakKiB);
      }
      console.log(
        `run ${r + 1}: openssh ${s(rows.openssh?.[r] ?? 0)}  ours push ${s(push.ms)}  ours create+verify ${s(create.ms)}`,
      );
    }
    const base = median(rows.openssh ?? []);
    console.log(`\nthroughput (${(sizeA / 2 ** 20).toFixed(0)} MiB, medians of ${runs}):`);
    const verdict = (ok: boolean) => (ok ? "OK" : "MISSED");
    console.log(
      `  ${"rsync -e OpenSSH".padEnd(32)} ${s(base)}  1.00x  ${(sizeA / 2 ** 20 / (base / 1000)).toFixed(0)} MiB/s`,
    );
    const push = median(rows.push ?? []);
    const create = median(rows.create ?? []);
    console.log(
      `  ${"ours push (same rsync command)".padEnd(32)} ${s(push)}  ${(push / base).toFixed(2)}x  target ≤ 1.10x ${verdict(push / base <= 1.1)}`,
    );
    console.log(
      `  ${"ours create (push + verify)".padEnd(32)} ${s(create)}  ${(create / base).toFixed(2)}x  for the record`,
    );
    const totalMb = ((parentPeak + shimPeak + rsyncPeak) * 1024) / 1e6;
    console.log(
      `\npeak memory: Node process ${mb(parentPeak)} + shim ${mb(shimPeak)} + local rsync ${mb(rsyncPeak)} = ${mb(parentPeak + shimPeak + rsyncPeak)} = ${totalMb.toFixed(0)} MB, target < 200 MB ${verdict(totalMb < 200)}`,
    );

    // Delta: B as the update of A (same folder, new name; A is rsync's --fuzzy basis).
    await wipe();
    const a = await runOurs({
      op: "create",
      news: { btdName: "bench", ...conn, source: imageA, remotePath: "envs/img-{sha12}.sqsh" },
    });
    const b = await runOurs({
      op: "update",
      olds: a.outs as Props,
      news: { btdName: "bench", ...conn, source: imageB, remotePath: "envs/img-{sha12}.sqsh" },
    });
    await wipe();
    await execa("ln", ["-sf", imageA, join(stage, "envs/img-a.sqsh")]);
    await runOpenSsh(filer, stage, "envs/img-a.sqsh");
    await execa("ln", ["-sf", imageB, join(stage, "envs/img-b.sqsh")]);
    const baseDelta = await runOpenSsh(filer, stage, "envs/img-b.sqsh", true);
    const pct = (n: number | undefined) =>
      n === undefined ? "?" : `${n} bytes = ${((100 * n) / sizeB).toFixed(1)}%`;
    console.log(`\ndelta (image B differs from A in one ${PACKAGE_MIB} MiB package, ${sizeB} bytes):`);
    console.log(
      `  ours update A→B:            sent ${pct(b.bytesSent)} of the image in ${s(b.ms)} (target ≤ 25%)`,
    );
    console.log(
      `  rsync -e OpenSSH --fuzzy:   sent ${pct(baseDelta.bytesSent)} of the image in ${s(baseDelta.ms)}`,
    );
  } finally {
    await filer.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
