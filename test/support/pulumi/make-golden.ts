/**
 * Writes the golden state of this release: `node test/support/pulumi/make-golden.ts`.
 * Each release adds its folder under test/e2e/fixtures/golden/<version>/ and
 * never edits older ones; test/e2e/trampoline.test.ts loads them all.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createProject, REPO_ROOT } from "./harness.ts";

const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
const project = await createProject({
  projectName: "golden",
  programModule: join(REPO_ROOT, "test/e2e/programs/local-file.ts"),
});
await project.up();
const state = await project.exportState();
const out = join(REPO_ROOT, "test/e2e/fixtures/golden", pkg.version);
await mkdir(out, { recursive: true });
await writeFile(join(out, "local-file.deployment.json"), `${JSON.stringify(state, null, 2)}\n`);
await project.destroy();
await project.dispose();
console.log(`wrote ${out}/local-file.deployment.json`);
