import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Props } from "../../../provider/context.ts";
import { filerArtifactOps as ops } from "../../../provider/filer-artifact.ts";
import { type Filer, startFiler } from "../../support/filer/index.ts";
import { acceptsServerCommand } from "../../unit/filer/rrsync-whitelist.ts";
import { connection, ctxFor, tempFile } from "./helpers.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

async function checked(news: Props, olds: Props = {}) {
  const r = await ops.check(olds, { btdName: "img", ...news }, ctxFor("img"));
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

describe("FilerArtifact against a locking Python rrsync", () => {
  let filer: Filer;
  beforeAll(async () => {
    filer = await startFiler({ mode: "rw" });
  });
  afterAll(async () => filer?.stop());

  it("creates, no-ops, replaces content by a new name and deletes", async () => {
    const src = await tempFile("version one\n");
    const inputs = await checked({ ...connection(filer), source: src, remotePath: "envs/proj-{sha12}.sqsh" });
    expect(inputs.remotePath).toMatch(/^envs\/proj-[0-9a-f]{12}\.sqsh$/);
    await filer.clearCommandLog();
    const created = await ops.create(inputs, ctxFor("img"));
    const first = join(filer.root, inputs.remotePath as string);
    expect(await readFile(first, "utf8")).toBe("version one\n");
    const log = await filer.commandLog();
    expect(log.length).toBeGreaterThan(0);
    for (const cmd of log) expect(acceptsServerCommand(cmd), cmd).toBe(true);

    // No-op: check + diff only, nothing reaches the filer.
    await filer.clearCommandLog();
    const again = await checked(
      { ...connection(filer), source: src, remotePath: "envs/proj-{sha12}.sqsh" },
      inputs,
    );
    const d = await ops.diff(created.id, created.outs, again, ctxFor("img"));
    expect(d.changes).toBe(false);
    expect(await filer.commandLog()).toEqual([]);

    // Content change: new name, old one removed after.
    await writeFile(src, "version two, a little longer\n");
    const next = await checked(
      { ...connection(filer), source: src, remotePath: "envs/proj-{sha12}.sqsh" },
      inputs,
    );
    const d2 = await ops.diff(created.id, created.outs, next, ctxFor("img"));
    expect(d2.changes).toBe(true);
    expect(d2.replaces).toEqual([]);
    const updated = await ops.update(created.id, created.outs, next, ctxFor("img"));
    expect(await readFile(join(filer.root, next.remotePath as string), "utf8")).toBe(
      "version two, a little longer\n",
    );
    expect(existsSync(first)).toBe(false);
    expect(updated.outs.retained).toEqual([]);

    await ops.delete(created.id, updated.outs, ctxFor("img"));
    expect(await readdir(join(filer.root, "envs"))).toEqual([]);
    // Already gone is success.
    await ops.delete(created.id, updated.outs, ctxFor("img"));
  });

  it("lands every byte of files sized around the shim's read buffer, SSH packets, window and GC step", async () => {
    // 32 KiB packets, 256 KiB reads, a 2 MiB window (reading pauses when it is full), a GC every 16 MiB.
    const sizes = [0, 1, 32 * KiB - 1, 32 * KiB, 256 * KiB, 256 * KiB + 1, 3 * MiB + 7, 40 * MiB + 3];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const src = await tempFile(bytes);
      const inputs = await checked({
        ...connection(filer),
        source: src,
        remotePath: `sizes/s${size}-{sha12}`,
      });
      const created = await ops.create(inputs, ctxFor("img"));
      const landed = await readFile(join(filer.root, inputs.remotePath as string));
      expect(landed.length, `size ${size}`).toBe(size);
      expect(landed.equals(bytes), `size ${size}`).toBe(true);
      expect(created.outs.sizeBytes).toBe(size);
    }
  });

  it("keeps `retain` earlier versions and deletes them with the resource", async () => {
    const src = await tempFile("r1\n");
    const base = { ...connection(filer), source: src, remotePath: "keep/p-{sha12}", retain: 1 };
    const i1 = await checked(base);
    const c = await ops.create(i1, ctxFor("img"));
    await writeFile(src, "r2\n");
    const i2 = await checked(base, i1);
    const u2 = await ops.update(c.id, c.outs, i2, ctxFor("img"));
    await writeFile(src, "r3\n");
    const i3 = await checked(base, i2);
    const u3 = await ops.update(c.id, u2.outs, i3, ctxFor("img"));
    expect((u3.outs.retained as { remotePath: string }[]).map((r) => r.remotePath)).toEqual([i2.remotePath]);
    expect((await readdir(join(filer.root, "keep"))).sort()).toEqual(
      [(i2.remotePath as string).slice(5), (i3.remotePath as string).slice(5)].sort(),
    );
    await ops.delete(c.id, u3.outs, ctxFor("img"));
    expect(await readdir(join(filer.root, "keep"))).toEqual([]);
  });

  it("refuses a wrong host key before anything is sent, naming both fingerprints", async () => {
    const src = await tempFile("x\n");
    const inputs = await checked({
      ...connection(filer, { hostKeys: [filer.otherHostKey] }),
      source: src,
      remotePath: "w/{sha12}",
    });
    await filer.clearCommandLog();
    const err = await ops.create(inputs, ctxFor("img")).catch((e: Error) => e);
    expect(String(err)).toContain("BTD_FILER_HOST_KEY_MISMATCH");
    expect(String(err)).toContain(filer.hostKeyFingerprint);
    expect(await filer.commandLog()).toEqual([]);
    expect(existsSync(join(filer.root, "w"))).toBe(false);
  });

  it("refresh sees a file deleted or changed behind its back", async () => {
    const src = await tempFile("refresh me\n");
    const inputs = await checked({ ...connection(filer), source: src, remotePath: "r/{sha12}.img" });
    const c = await ops.create(inputs, ctxFor("img"));
    const remote = join(filer.root, inputs.remotePath as string);
    expect(await ops.read(c.id, c.outs, ctxFor("img"))).toEqual({ id: c.id, props: c.outs });
    await writeFile(remote, "refresh mX\n"); // same size, other bytes
    const changed = await ops.read(c.id, c.outs, ctxFor("img"));
    expect(changed.props?.sha256).not.toBe(inputs.sha256);
    await writeFile(remote, "much longer content\n");
    expect((await ops.read(c.id, c.outs, ctxFor("img"))).props?.sizeBytes).toBe(20);
    await rm(remote);
    expect(await ops.read(c.id, c.outs, ctxFor("img"))).toEqual({});
    // up repairs: the drifted state diffs against the program and the update pushes again.
    await writeFile(remote, "tampered\n");
    const drift = (await ops.read(c.id, c.outs, ctxFor("img"))).props as Props;
    expect((await ops.diff(c.id, drift, inputs, ctxFor("img"))).changes).toBe(true);
    await ops.update(c.id, drift, inputs, ctxFor("img"));
    expect(await readFile(remote, "utf8")).toBe("refresh me\n");
  });

  it("adopts an identical file already at the content-addressed path", async () => {
    const src = await tempFile("adopt me\n");
    const inputs = await checked({ ...connection(filer), source: src, remotePath: "a/{sha12}" });
    await ops.create(inputs, ctxFor("img"));
    const c2 = await ops.create(inputs, ctxFor("adopt"));
    expect(c2.outs.remotePath).toBe(inputs.remotePath);
  });

  it("serializes parallel uploads to one account in-process", async () => {
    const files = await Promise.all([1, 2, 3].map((n) => tempFile(Buffer.alloc(256 * 1024, n))));
    const inputs = await Promise.all(
      files.map((f) => checked({ ...connection(filer), source: f, remotePath: "par/{sha12}" })),
    );
    await Promise.all(inputs.map((i) => ops.create(i, ctxFor("par"))));
    expect((await readdir(join(filer.root, "par"))).length).toBe(3);
  });

  it("refuses a content change of a path without the hash unless mutable", async () => {
    const src = await tempFile("m1\n");
    const i1 = await checked({ ...connection(filer), source: src, remotePath: "fixed/name.txt" });
    await writeFile(src, "m2\n");
    const r = await ops.check(
      i1,
      { btdName: "img", ...connection(filer), source: src, remotePath: "fixed/name.txt" },
      ctxFor("img"),
    );
    expect(r.failures?.[0]?.property).toBe("remotePath");
    expect(r.failures?.[0]?.reason).toContain("mutable");
  });
});
