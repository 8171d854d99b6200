/** A folder source lands as one content-addressed folder, verified, and goes as one. */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { filerArtifactOps as ops } from "../../../provider/filer-artifact.ts";
import { type Filer, startFiler } from "../../support/filer/index.ts";
import { connection, ctxFor } from "./helpers.ts";

let filer: Filer;
beforeAll(async () => {
  filer = await startFiler({ mode: "rw" });
});
afterAll(async () => filer?.stop());

it("uploads a folder as one content-addressed folder, no-ops, sees drift inside it, deletes it whole", async () => {
  const src = await mkdtemp(join(tmpdir(), "btd-tree-"));
  await mkdir(join(src, "bin"), { recursive: true });
  await writeFile(join(src, "bin/run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
  await writeFile(join(src, "data.txt"), "payload\n");
  await symlink("bin/run.sh", join(src, "run"));
  const news = { btdName: "tree", ...connection(filer), source: src, remotePath: "trees/t-{sha12}" };
  const checked = await ops.check({}, news, ctxFor("tree"));
  expect(checked.failures ?? []).toEqual([]);
  const inputs = checked.inputs as Record<string, unknown>;
  expect(inputs.folder).toBe(true);
  const at = join(filer.root, inputs.remotePath as string);

  const created = await ops.create(inputs, ctxFor("tree"));
  expect((await readdir(join(filer.root, "trees"))).length).toBe(1);
  expect(await readFile(join(at, "bin/run.sh"), "utf8")).toBe("#!/bin/sh\necho run\n");
  expect(await readFile(join(at, "data.txt"), "utf8")).toBe("payload\n");
  expect(await readlink(join(at, "run"))).toBe("bin/run.sh");

  // Same content: same name, no change; the filer agrees with the source.
  const again = (await ops.check(inputs, news, ctxFor("tree"))).inputs as Record<string, unknown>;
  expect(again.remotePath).toBe(inputs.remotePath);
  expect((await ops.diff(created.id, created.outs, again, ctxFor("tree"))).changes).toBe(false);
  expect(await ops.read(created.id, created.outs, ctxFor("tree"))).toEqual({
    id: created.id,
    props: created.outs,
  });

  // A file changed inside the published folder is drift.
  await writeFile(join(at, "data.txt"), "PAYLOAD\n");
  expect((await ops.read(created.id, created.outs, ctxFor("tree"))).props?.sha256).toBe("changed-on-filer");

  await ops.delete(created.id, created.outs, ctxFor("tree"));
  expect(existsSync(at)).toBe(false);
});
