import { lstat, mkdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Props } from "../../../provider/context.ts";
import { filerLinkOps as ops } from "../../../provider/filer-link.ts";
import { type Filer, startFiler } from "../../support/filer/index.ts";
import { acceptsServerCommand } from "../../unit/filer/rrsync-whitelist.ts";
import { connection, ctxFor } from "./helpers.ts";

describe("FilerLink", () => {
  let filer: Filer;
  beforeAll(async () => {
    filer = await startFiler({ mode: "rw" });
    await mkdir(join(filer.root, "proj/a"), { recursive: true });
    await mkdir(join(filer.root, "proj/b"), { recursive: true });
    await writeFile(join(filer.root, "proj/a/env.sqsh"), "a");
    await writeFile(join(filer.root, "proj/b/env.sqsh"), "b");
  });
  afterAll(async () => filer?.stop());

  async function checked(news: Props) {
    const r = await ops.check(
      {},
      { btdName: "live", ...connection(filer), linkPath: "proj/current", ...news },
      ctxFor("live"),
    );
    expect(r.failures ?? []).toEqual([]);
    return r.inputs as Props;
  }

  it("flips atomically: a reader looping on the link never sees it missing", async () => {
    const link = join(filer.root, "proj/current");
    let state = (await ops.create(await checked({ target: "a/env.sqsh" }), ctxFor("live"))).outs;
    expect(await readlink(link)).toBe("a/env.sqsh");
    let stop = false;
    let reads = 0;
    const missing: string[] = [];
    const reader = (async () => {
      while (!stop) {
        try {
          await lstat(link);
          reads++;
        } catch (e) {
          missing.push(String(e));
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (const target of ["b/env.sqsh", "a/env.sqsh", "b/env.sqsh", "a/env.sqsh"]) {
      const next = await checked({ target });
      state = (await ops.update("id", state, next, ctxFor("live"))).outs;
      expect(await readlink(link)).toBe(target);
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(missing).toEqual([]);
    for (const cmd of await filer.commandLog()) expect(acceptsServerCommand(cmd), cmd).toBe(true);
  });

  it("a failing verify leaves the link unchanged; read sees a flipped-behind-our-back link", async () => {
    const link = join(filer.root, "proj/current");
    const state = (await ops.create(await checked({ target: "a/env.sqsh" }), ctxFor("live"))).outs;
    const bad = await checked({ target: "b/env.sqsh", verify: 'test "$BTD_LINK_TARGET" = nope' });
    const err = await ops.update("id", state, bad, ctxFor("live")).catch((e: Error) => e);
    expect(String(err)).toContain("BTD_FILER_LINK_VERIFY_FAILED");
    expect(await readlink(link)).toBe("a/env.sqsh");
    const good = await checked({ target: "b/env.sqsh", verify: 'test "$BTD_LINK_TARGET" = b/env.sqsh' });
    const flipped = (await ops.update("id", state, good, ctxFor("live"))).outs;
    expect(await readlink(link)).toBe("b/env.sqsh");
    expect((await ops.read("id", flipped, ctxFor("live"))).props?.target).toBe("b/env.sqsh");
    await ops.delete("id", flipped, ctxFor("live"));
    expect(await ops.read("id", flipped, ctxFor("live"))).toEqual({});
  });
});
