/**
 * CondaSquashEnv against the real things: the sandbox installer (py-rattler)
 * on the local channel, mksquashfs and squashfuse.
 */

import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { condaSquashEnvOps } from "../../../provider/conda-squash-env.ts";
import type { OpContext, Props } from "../../../provider/context.ts";
import { createProgress } from "../../../provider/progress.ts";
import { ensureChannel, installerPath, readInstallerLog } from "../../support/conda/index.ts";
import { mountImage } from "../../support/filer/mount-image.ts";

let root: string;
let channel: string;
const lines: string[] = [];
const ctx: OpContext = {
  label: "CondaSquashEnv it",
  progress: { ...createProgress("CondaSquashEnv it", 0), step: (p, m) => lines.push(`${p}: ${m}`) },
  config: { get: () => undefined },
};

beforeAll(async () => {
  channel = `file://${await ensureChannel()}`;
  root = await mkdtemp(join(tmpdir(), "btd-conda-it-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function checked(news: Props): Promise<Props> {
  const r = await condaSquashEnvOps.check(
    {},
    { btdName: "it", installer: installerPath, installerDialect: "mamba", ...news },
    ctx,
  );
  expect(r.failures).toBeUndefined();
  return r.inputs as Props;
}

describe("CondaSquashEnv build", () => {
  it("builds from specs; the image mounted at the prefix runs the project", async () => {
    const prefix = join(root, "envs", "meanrev-1.0.0-py311");
    const workDir = join(root, "work-a");
    const inputs = await checked({
      specs: ["meanrev=1.0.0", "python=3.11"],
      channels: [channel],
      prefix,
      workDir,
      smokeTest: ["python -c 'import meanrev'"],
    });
    const { id, outs } = await condaSquashEnvOps.create(inputs, ctx);
    expect(id).toMatch(/^meanrev-1\.0\.0-py311-[0-9a-f]{12}\.sqsh$/);
    expect(outs.imagePath).toBe(join(workDir, id));
    expect(String(outs.sha256).slice(0, 12)).toBe(id.slice(-17, -5));
    expect(outs.packages).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "meanrev", version: "1.0.0" })]),
    );
    expect(outs.lock).toMatch(/@EXPLICIT\n.*meanrev-1\.0\.0-py_0\.tar\.bz2#[0-9a-f]{32}/s);
    // Nothing but the image and caches is left: no tree at the prefix, no scratch.
    expect(await readdir(join(root, "envs"))).toEqual([]);
    expect((await readdir(workDir)).sort()).toEqual([id, "builds", "owners", "pkgs"].sort());

    const mounted = await mountImage(String(outs.imagePath), prefix);
    try {
      const out = join(root, "backtest-out");
      await mkdir(out);
      await execa(join(prefix, "bin", "meanrev-backtest"), ["--output", out], {
        env: { PATH: `${prefix}/bin:/usr/bin:/bin` },
      });
      expect((await readdir(out)).length).toBeGreaterThan(0);
    } finally {
      await mounted.unmount();
    }

    const read = await condaSquashEnvOps.read(id, outs, ctx);
    expect(read.props?.localImage).toBe("present");
    await condaSquashEnvOps.delete(id, outs, ctx);
    expect(await readdir(workDir)).not.toContain(id);
    // A missing local image is reported, never a reason to rebuild (read still returns the resource).
    const after = await condaSquashEnvOps.read(id, outs, ctx);
    expect(after).toMatchObject({ id, props: { localImage: "missing" } });
  });

  it("builds byte-identical images from the same lock, whatever the work folder", async () => {
    const lockFile = join(root, "lock.txt");
    const first = await condaSquashEnvOps.create(
      await checked({
        specs: ["meanrev=1.1.0", "python=3.11"],
        channels: [channel],
        prefix: join(root, "envs", "lock-src"),
        workDir: join(root, "work-src"),
      }),
      ctx,
    );
    await writeFile(lockFile, String(first.outs.lock));
    const prefix = join(root, "envs", "meanrev-locked");
    const log = join(root, "installer.log");
    process.env.RATTLER_MAMBA_LOG = log;
    try {
      const a = await condaSquashEnvOps.create(
        await checked({ lockFile, prefix, workDir: join(root, "work-b") }),
        ctx,
      );
      await condaSquashEnvOps.delete(a.id, a.outs, ctx); // same prefix: the old build goes first, as in a replace
      const b = await condaSquashEnvOps.create(
        await checked({ lockFile, prefix, workDir: join(root, "work-c") }),
        ctx,
      );
      expect(b.outs.sha256).toBe(a.outs.sha256);
      expect(b.id).toBe(a.id);
      expect(b.outs.lock).toBe(first.outs.lock);
      const installs = (await readInstallerLog(log)).filter((argv) => argv[0] === "create");
      expect(installs).toHaveLength(2);
      expect(installs[0]).toEqual([
        "create",
        "-y",
        "-p",
        prefix,
        "--file",
        expect.stringMatching(/lock\.txt$/),
      ]);
    } finally {
      delete process.env.RATTLER_MAMBA_LOG;
    }
  });

  it("publishes nothing and leaves nothing behind when the smoke test fails", async () => {
    const prefix = join(root, "envs", "smoke-fails");
    const workDir = join(root, "work-smoke");
    const inputs = await checked({
      specs: ["meanrev=1.0.0", "python=3.11"],
      channels: [channel],
      prefix,
      workDir,
      smokeTest: [
        "python -c 'import meanrev'",
        "python -c 'import sys; print(\"no such strategy\", file=sys.stderr); sys.exit(3)'",
      ],
    });
    const err = await condaSquashEnvOps.create(inputs, ctx).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe("BTD_CONDA_SMOKE_FAILED");
    expect(err?.message).toMatch(/no such strategy/);
    expect(err?.message).toMatch(/exit 3/);
    expect((await readdir(workDir)).filter((n) => n.endsWith(".sqsh") || n.endsWith(".partial"))).toEqual([]);
    expect(await readdir(join(workDir, "builds"))).toEqual([]);
    expect(await readdir(join(workDir, "owners"))).toEqual([]);
    expect(await readdir(join(root, "envs"))).not.toContain("smoke-fails");
  });

  it("names the installer's own words when the specs cannot be solved, leaving nothing", async () => {
    const prefix = join(root, "envs", "unsolvable");
    const inputs = await checked({
      specs: ["meanrev=9.9.9", "python=3.11"],
      channels: [channel],
      prefix,
      workDir: join(root, "work-bad"),
    });
    await expect(condaSquashEnvOps.create(inputs, ctx)).rejects.toMatchObject({
      code: "BTD_CONDA_INSTALL",
      message: expect.stringMatching(/solve/i),
    });
    expect(await readdir(join(root, "envs"))).not.toContain("unsolvable");
  });

  it("refuses a prefix that holds something not ours", async () => {
    const prefix = join(root, "envs", "someone-elses");
    await mkdir(prefix, { recursive: true });
    await writeFile(join(prefix, "precious.txt"), "keep me");
    const inputs = await checked({
      specs: ["meanrev=1.0.0"],
      channels: [channel],
      prefix,
      workDir: join(root, "work-x"),
    });
    await expect(condaSquashEnvOps.create(inputs, ctx)).rejects.toMatchObject({
      code: "BTD_CONDA_PREFIX_IN_USE",
    });
    expect(await readdir(prefix)).toEqual(["precious.txt"]);
  });
});
