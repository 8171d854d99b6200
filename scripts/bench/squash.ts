/**
 * Benchmark: our squash step (normalise permissions, mksquashfs with the
 * resource's reproducible flags, sha256 of the image) against plain
 * mksquashfs with the same flags on the same generated env-like tree.
 *
 *   node scripts/bench/squash.ts [--size-mib 2048] [--runs 5] [--level 15] [--mem 512M] [--keep DIR]
 *
 * Prints median wall time of each and their ratio (target ≤ 1.1x), the peak
 * RSS of this Node process during our step (target < 150 MB) and
 * mksquashfs's own peak RSS (bounded by -mem), measured in one run.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sha256File } from "../../provider/hash.ts";
import {
  normalizePermissions,
  type SquashOptions,
  squashArgs,
  squashTree,
} from "../../provider/squashfs/squash.ts";

const { values } = parseArgs({
  options: {
    "size-mib": { type: "string", default: "2048" },
    runs: { type: "string", default: "5" },
    level: { type: "string", default: "15" },
    mem: { type: "string", default: "512M" },
    keep: { type: "string" },
    "generate-into": { type: "string" },
  },
});
const sizeBytes = Number(values["size-mib"]) * 2 ** 20;
const runs = Number(values.runs);
const opts: SquashOptions = {
  compression: "zstd",
  level: Number(values.level),
  blockSize: 1048576,
  processors: availableParallelism(),
  mem: values.mem,
};

/** 70% of the bytes in many small text-like files (site-packages), 30% in a few large binaries (libs). */
async function generateTree(root: string, total: number): Promise<{ files: number }> {
  let files = 0;
  const words =
    "def backtest(prices, lookback=20):\n    return sum(prices[-lookback:]) / lookback\n# mean reversion signal\n";
  const smallBudget = total * 0.7;
  let written = 0;
  let pkg = 0;
  while (written < smallBudget) {
    const dir = join(root, "lib", "python3.11", "site-packages", `pkg${pkg++}`);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < 200 && written < smallBudget; i++) {
      const size = 512 + ((i * 7919 + pkg * 104729) % (64 * 1024));
      // Text with some entropy, so it compresses like source, not like zeros.
      const body = Buffer.alloc(size);
      const seed = randomBytes(64).toString("hex");
      for (let o = 0; o < size; o += words.length + seed.length) body.write(words + seed, o);
      await writeFile(join(dir, `mod${i}.py`), body, { mode: i % 10 === 0 ? 0o775 : 0o664 });
      written += size;
      files++;
    }
  }
  const libDir = join(root, "lib");
  let big = 0;
  while (written < total) {
    const size = Math.min(64 * 2 ** 20, total - written);
    const chunk = Buffer.alloc(size);
    // Half random (incompressible code/data), half repetitive (tables, padding).
    randomBytes(Math.floor(size / 2)).copy(chunk);
    await writeFile(join(libDir, `libbig${big++}.so`), chunk, { mode: 0o755 });
    written += size;
    files++;
  }
  return { files };
}

async function peakRssOfChild(file: string, args: string[]): Promise<{ ms: number; peakKiB: number }> {
  const started = performance.now();
  const child = spawn(file, args, { stdio: ["ignore", "ignore", "inherit"] });
  let peakKiB = 0;
  const poll = setInterval(async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      // exited between polls
    }
  }, 20);
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  clearInterval(poll);
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  return { ms: performance.now() - started, peakKiB };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

// The tree is written by a child process, so its buffers do not count in our peak RSS.
if (values["generate-into"]) {
  const { files } = await generateTree(values["generate-into"], sizeBytes);
  console.log(`${files} files`);
  process.exit(0);
}

const work = values.keep ?? (await mkdtemp(join(tmpdir(), "btd-bench-squash-")));
const tree = join(work, "tree");
try {
  process.stdout.write(`generating ${values["size-mib"]} MiB env-like tree in ${tree} ... `);
  await rm(tree, { recursive: true, force: true });
  await new Promise<void>((resolve, reject) =>
    spawn(
      process.execPath,
      [process.argv[1] as string, "--size-mib", String(values["size-mib"]), "--generate-into", tree],
      { stdio: "inherit" },
    ).on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`tree generation exited with ${c}`)))),
  );
  const ours: number[] = [];
  const plain: number[] = [];
  let nodePeak = 0;
  let mksquashfsPeakKiB = 0;
  const image = join(work, "image.sqsh");
  for (let r = 0; r < runs; r++) {
    // Alternate the order so page-cache warmth favours neither.
    const order = r % 2 === 0 ? ["plain", "ours"] : ["ours", "plain"];
    for (const which of order) {
      await rm(image, { force: true });
      if (which === "plain") {
        const { ms, peakKiB } = await peakRssOfChild("mksquashfs", [
          ...squashArgs(tree, image, opts),
          "-no-progress",
          "-quiet",
        ]);
        plain.push(ms);
        mksquashfsPeakKiB = Math.max(mksquashfsPeakKiB, peakKiB);
      } else {
        const sampler = setInterval(() => {
          nodePeak = Math.max(nodePeak, process.memoryUsage.rss());
        }, 20);
        const t = performance.now();
        await normalizePermissions(tree);
        await squashTree(tree, image, opts);
        await sha256File(image);
        ours.push(performance.now() - t);
        clearInterval(sampler);
        nodePeak = Math.max(nodePeak, process.memoryUsage.rss());
      }
    }
    console.log(
      `run ${r + 1}/${runs}: ours ${(ours.at(-1)! / 1000).toFixed(2)} s, plain mksquashfs ${(plain.at(-1)! / 1000).toFixed(2)} s`,
    );
  }
  const mo = median(ours);
  const mp = median(plain);
  // Each run times both side by side: the median of those ratios shows how much of the spread is the machine.
  const paired = median(ours.map((o, k) => o / (plain[k] as number)));
  console.log("");
  console.log(`flags: ${squashArgs("SRC", "DEST", opts).join(" ")}`);
  console.log(`                         ours        plain mksquashfs   ratio   target`);
  console.log(
    `median wall time (s)     ${(mo / 1000).toFixed(2).padEnd(11)} ${(mp / 1000).toFixed(2).padEnd(18)} ${(mo / mp).toFixed(3)}x  <= 1.1x ${mo / mp <= 1.1 ? "OK" : "MISSED"}`,
  );
  console.log(`median of per-run ratios                                    ${paired.toFixed(3)}x`);
  console.log(
    `peak RSS node (MB)       ${(nodePeak / 1e6).toFixed(1).padEnd(11)} -                          < 150 MB ${nodePeak < 150e6 ? "OK" : "MISSED"}`,
  );
  console.log(
    `peak RSS mksquashfs (MB) -           ${((mksquashfsPeakKiB * 1024) / 1e6).toFixed(1).padEnd(18)}         bounded by -mem ${opts.mem}`,
  );
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true });
}
