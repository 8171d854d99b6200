import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256File } from "../../../provider/hash.ts";

const MIB = 1 << 20;

describe("sha256File equals sha256 of the whole file around chunk boundaries", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "btd-hash-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const size of [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 9 * MIB + 7]) {
    it(`${size} bytes`, async () => {
      const bytes = Buffer.alloc(size);
      for (let o = 0; o < size; o++) bytes[o] = (o * 2654435761) >>> 24;
      const file = join(dir, `f${size}`);
      await writeFile(file, bytes);
      const seen: number[] = [];
      const got = await sha256File(file, (done) => seen.push(done));
      expect(got).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(seen.at(-1) ?? 0).toBe(size);
    });
  }

  it("a missing file is an error, not a hash", async () => {
    await expect(sha256File(join(dir, "absent"))).rejects.toThrow(/ENOENT/);
  });
});
