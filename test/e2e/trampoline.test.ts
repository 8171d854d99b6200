/**
 * DESIGN rule 1: Pulumi runs the provider code stored in state against the
 * installed package. State written by one build must refresh, update and
 * destroy with a package whose internals were renamed and moved, from a
 * program folder that moved elsewhere, and state written by earlier releases
 * (golden fixtures) must keep working.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createProject as createProjectIn,
  type Deployment,
  REPO_ROOT,
  resourcesOfType,
} from "../support/pulumi/harness.ts";
import { installPackageCopy } from "../support/pulumi/package-copy.ts";

const TYPE = "pulumi-nodejs:dynamic/backtest:LocalFile";
const GOLDEN_DIR = join(REPO_ROOT, "test/e2e/fixtures/golden");
const cleanup: string[] = [];
const projects: Array<{ dispose(): Promise<void> }> = [];

/** createProject, disposed after all tests (its run scratch goes with it). */
async function createProject(...args: Parameters<typeof createProjectIn>) {
  const project = await createProjectIn(...args);
  projects.push(project);
  return project;
}

afterAll(async () => {
  for (const p of projects) await p.dispose();
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

async function newProjectDir(): Promise<{ root: string; dir: string; backend: string }> {
  const root = await mkdtemp(join(tmpdir(), "btd-trampoline-"));
  cleanup.push(root);
  const dir = join(root, "checkout-a", "deploy");
  const backend = join(root, "backend");
  await mkdir(dir, { recursive: true });
  await mkdir(backend, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "team-deploy", type: "module" }));
  await copyFile(join(REPO_ROOT, "test/e2e/programs/local-file.ts"), join(dir, "index.ts"));
  return { root, dir, backend };
}

function serializedProviders(state: Deployment): string[] {
  return resourcesOfType(state, TYPE).map((r) => String(r.inputs?.__provider ?? ""));
}

describe("the serialized provider is a stable trampoline", () => {
  it("captures only the kind and the package name", async () => {
    const { root, dir, backend } = await newProjectDir();
    await installPackageCopy(dir, "as-built");
    const project = await createProject({
      projectName: "trampoline",
      programModule: join(dir, "index.ts"),
      workDir: dir,
      backendUrl: `file://${backend}`,
    });
    await project.up();
    const [code] = serializedProviders(await project.exportState());
    expect(code).toContain('"backtest-deploy/provider"');
    expect(code).toContain('kind: "LocalFile"');
    // No absolute path, no internal module, no captured module object.
    for (const needle of [
      root,
      REPO_ROOT,
      "/tmp",
      "dist/",
      "local-file",
      "trampoline",
      ".js",
      "node_modules",
    ]) {
      expect(code, needle).not.toContain(needle);
    }
    await project.destroy();
  });

  it("refreshes, updates and destroys after the package is rebuilt with other internals and the folder moved", async () => {
    const { root, dir, backend } = await newProjectDir();
    await installPackageCopy(dir, "as-built");
    const first = await createProject({
      projectName: "trampoline",
      programModule: join(dir, "index.ts"),
      workDir: dir,
      backendUrl: `file://${backend}`,
    });
    await first.up();
    expect(await readFile(join(dir, "out/marker.txt"), "utf8")).toBe("first");

    // Rebuilt internals: the modules the first build had are gone.
    await installPackageCopy(dir, "renamed-internals");
    expect(existsSync(join(dir, "node_modules/backtest-deploy/dist"))).toBe(false);
    expect(await readdir(join(dir, "node_modules/backtest-deploy/lib/r2"))).toContain("p_local-file_r2.js");

    // Another checkout folder, as on another CI runner.
    const moved = join(root, "checkout-b", "deploy");
    await mkdir(join(root, "checkout-b"), { recursive: true });
    await rename(dir, moved);
    const second = await createProject({
      projectName: "trampoline",
      programModule: join(moved, "index.ts"),
      workDir: moved,
      backendUrl: `file://${backend}`,
    });
    const refreshed = await second.refresh();
    expect(refreshed.ok).toBe(true);
    expect(resourcesOfType(await second.exportState(), TYPE)).toHaveLength(1);
    // A no-op from the moved folder: relative paths keep identity.
    const noop = await second.preview({ expectNoChanges: true });
    expect(noop.steps).toEqual({ marker: "same" });
    const updated = await second.up({ env: { BTD_TEST_CONTENT: "second" } });
    expect(updated.steps).toEqual({ marker: "update" });
    expect(await readFile(join(moved, "out/marker.txt"), "utf8")).toBe("second");
    // Removing the resource from the program runs the old stored code on the new package.
    await second.up({ env: { BTD_TEST_INCLUDE: "0" } });
    expect(existsSync(join(moved, "out/marker.txt"))).toBe(false);
    await second.destroy();
  });

  it("state written by every earlier release refreshes, updates and destroys", async () => {
    const releases = await readdir(GOLDEN_DIR);
    expect(releases.length).toBeGreaterThan(0);
    for (const release of releases) {
      const golden = JSON.parse(
        await readFile(join(GOLDEN_DIR, release, "local-file.deployment.json"), "utf8"),
      ) as Deployment;
      const { dir, backend } = await newProjectDir();
      await installPackageCopy(dir, "as-built");
      const project = await createProject({
        projectName: "golden",
        programModule: join(dir, "index.ts"),
        workDir: dir,
        backendUrl: `file://${backend}`,
      });
      await project.importState(golden);
      await mkdir(join(dir, "out"), { recursive: true });
      await writeFile(join(dir, "out/marker.txt"), "first");
      await project.refresh();
      const noop = await project.preview();
      expect(noop.steps, release).toEqual({ marker: "same" });
      const updated = await project.up({ env: { BTD_TEST_CONTENT: "second" } });
      expect(updated.steps, release).toEqual({ marker: "update" });
      expect(await readFile(join(dir, "out/marker.txt"), "utf8")).toBe("second");
      await project.destroy();
      expect(existsSync(join(dir, "out/marker.txt"))).toBe(false);
      expect(resourcesOfType(await project.exportState(), TYPE)).toHaveLength(0);
    }
  });
});
