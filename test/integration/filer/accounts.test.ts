import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Props } from "../../../provider/context.ts";
import { filerArtifactOps as ops } from "../../../provider/filer-artifact.ts";
import { type Filer, type FilerOptions, startFiler } from "../../support/filer/index.ts";
import { acceptsServerCommand } from "../../unit/filer/rrsync-whitelist.ts";
import { connection, ctxFor, lines, tempFile } from "./helpers.ts";

let filer: Filer | undefined;
afterEach(async () => {
  await filer?.stop();
  filer = undefined;
});

async function lifecycle(options: FilerOptions) {
  filer = await startFiler(options);
  const src = await tempFile(`content for ${JSON.stringify(options)}\n`);
  const r = await ops.check(
    {},
    { btdName: "img", ...connection(filer), source: src, remotePath: "envs/p-{sha12}.sqsh" },
    ctxFor("img"),
  );
  expect(r.failures ?? []).toEqual([]);
  const inputs = r.inputs as Props;
  const created = await ops.create(inputs, ctxFor("img"));
  const remote = join(filer.root, inputs.remotePath as string);
  expect(await readFile(remote, "utf8")).toBe(await readFile(src, "utf8"));
  return { inputs, created, remote, src };
}

describe("FilerArtifact on restricted accounts", () => {
  it("-wo: uploads and verifies without listing; read falls back to a checksum dry run", async () => {
    const { created, remote } = await lifecycle({ mode: "wo" });
    expect(await ops.read(created.id, created.outs, ctxFor("img"))).toEqual({
      id: created.id,
      props: created.outs,
    });
    // Without the source on this runner the filer cannot be read: the state is kept, and we say so.
    lines.length = 0;
    const noSource = { ...created.outs, source: "does/not/exist.sqsh" };
    expect(await ops.read(created.id, noSource, ctxFor("img"))).toEqual({ id: created.id, props: noSource });
    expect(lines.join("\n")).toContain("cannot be read");
    await ops.delete(created.id, created.outs, ctxFor("img"));
    expect(existsSync(remote)).toBe(false);
  });

  it("-no-del: delete fails saying so, and the file stays", async () => {
    const { created, remote } = await lifecycle({ mode: "no-del" });
    const err = await ops.delete(created.id, created.outs, ctxFor("img")).catch((e: Error) => e);
    expect(String(err)).toContain("BTD_FILER_NO_DELETE");
    expect(String(err)).toContain("may not delete");
    expect(existsSync(remote)).toBe(true);
  });

  it("legacy Perl-style rrsync accepts every command line we send", async () => {
    const { created, remote, inputs, src } = await lifecycle({ rrsync: "legacy" });
    expect(await ops.read(created.id, created.outs, ctxFor("img"))).toEqual({
      id: created.id,
      props: created.outs,
    });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(src, "changed for legacy\n");
    const next = (
      await ops.check(
        inputs,
        { btdName: "img", ...connection(filer as Filer), source: src, remotePath: "envs/p-{sha12}.sqsh" },
        ctxFor("img"),
      )
    ).inputs as Props;
    const updated = await ops.update(created.id, created.outs, next, ctxFor("img"));
    expect(existsSync(remote)).toBe(false);
    await ops.delete(created.id, updated.outs, ctxFor("img"));
    const log = await (filer as Filer).commandLog();
    expect(log.length).toBeGreaterThan(5);
    for (const cmd of log) expect(acceptsServerCommand(cmd), cmd).toBe(true);
  });

  it("two parallel uploads from two processes to one locking root both succeed through refusal and retry", async () => {
    filer = await startFiler({ mode: "rw" });
    const f = filer;
    const { execa } = await import("execa");
    const big = await Promise.all([1, 2].map((n) => tempFile(Buffer.alloc(8 * 1024 * 1024, n))));
    const child = join(import.meta.dirname, "upload-child.ts");
    const runs = big.map((src, n) =>
      execa(process.execPath, ["--no-warnings", child], {
        input: JSON.stringify({
          ...connection(f),
          btdName: `p${n}`,
          source: src,
          remotePath: `lock/{sha12}-${n}`,
        }),
        env: { BTD_FILER_BWLIMIT_KIB: "4096" },
        reject: false,
      }),
    );
    const results = await Promise.all(runs);
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    expect(results.map((r) => r.stderr).join("\n")).toContain("rrsync lock");
    const log = await f.commandLog();
    // One push and one verify per upload succeeded, plus at least one refused attempt.
    expect(
      log.filter((c) => !c.includes(" -n") && !/ -[a-zA-Z]*n[a-zA-Z]*e\./.test(c)).length,
    ).toBeGreaterThanOrEqual(3);
  });
});
