/**
 * The sandbox as a whole, with no product code in between: an env built from
 * the local channel by the test installer, squashed, pushed through rrsync to
 * the filer, mounted with squashfuse at its build prefix, and the example
 * project's entry point run with the env's own Python.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureChannel, installerPath } from "../../support/conda/index.ts";
import { type Filer, type MountedImage, mountImage, startFiler } from "../../support/filer/index.ts";

describe("sandbox: build, squash, push, mount, run", () => {
  let filer: Filer;
  let work: string;
  let mounted: MountedImage | undefined;

  beforeAll(async () => {
    filer = await startFiler();
    work = await mkdtemp(join(tmpdir(), "btd-whole-"));
  });
  afterAll(async () => {
    await mounted?.unmount();
    await filer?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("runs meanrev from the image mounted at the prefix it was built at", async () => {
    const channel = await ensureChannel();
    const prefix = join(work, "envs", "meanrev-1.0.0-py311");
    await execa(
      installerPath,
      ["create", "-y", "-p", prefix, "-c", channel, "meanrev=1.0.0", "python=3.11"],
      {
        env: { CONDA_PKGS_DIRS: join(work, "pkgs") },
      },
    );
    const staging = join(work, "staging", "envs", "a");
    await mkdir(staging, { recursive: true });
    const image = join(staging, "meanrev-1.0.0-py311.sqsh");
    await execa("mksquashfs", [prefix, image, "-noappend", "-no-xattrs", "-all-root", "-quiet"]);
    // The build tree goes away: only the image can make the prefix work now.
    await rm(prefix, { recursive: true, force: true });

    await execa("rsync", [
      "-a",
      "-R",
      "-e",
      filer.rsyncSshCommand(),
      `${join(work, "staging")}/./envs/a/meanrev-1.0.0-py311.sqsh`,
      filer.remote("./"),
    ]);
    const landed = join(filer.root, "envs", "a", "meanrev-1.0.0-py311.sqsh");
    expect(await readFile(landed)).toEqual(await readFile(image));
    expect((await filer.commandLog()).some((c) => c.startsWith("rsync --server"))).toBe(true);

    mounted = await mountImage(landed, prefix);
    const out = join(work, "results");
    const run = await execa(
      join(prefix, "bin", "python"),
      [join(prefix, "bin", "meanrev-backtest"), "--output", out, "--days", "60"],
      {
        env: { PYTHONDONTWRITEBYTECODE: "1" },
        extendEnv: false,
      },
    );
    expect(run.stdout).toMatch(/^meanrev 1\.0\.0: days=60 /);
    const results = JSON.parse(await readFile(join(out, "results.json"), "utf8")) as Record<string, unknown>;
    expect(results).toHaveProperty("metrics.sharpe");
    const where = await execa(
      join(prefix, "bin", "python"),
      ["-c", "import sys, meanrev; print(sys.prefix); print(meanrev.__file__)"],
      {
        extendEnv: false,
      },
    );
    expect(where.stdout.split("\n")).toEqual([
      prefix,
      join(prefix, "lib/python3.11/site-packages/meanrev/__init__.py"),
    ]);
    await mounted.unmount();
    mounted = undefined;
  });
});
