/**
 * The foundation: a dynamic resource of the package through the real Pulumi
 * CLI (Automation API, file backend), each step asserted on the state and on
 * the file the resource writes.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, type PulumiProject, REPO_ROOT, resourcesOfType } from "../support/pulumi/harness.ts";

const PROGRAM = join(REPO_ROOT, "test/e2e/programs/local-file.ts");
const TYPE = "pulumi-nodejs:dynamic/backtest:LocalFile";

describe("a dynamic resource through the real CLI", () => {
  let project: PulumiProject;
  let target: string;

  beforeAll(async () => {
    project = await createProject({ projectName: "foundation", programModule: PROGRAM });
    target = join(project.workDir, "out/marker.txt");
  });
  afterAll(async () => {
    await project?.dispose();
  });

  it("preview plans a create and creates nothing", async () => {
    const r = await project.preview();
    expect(r.steps).toEqual({ marker: "create" });
    expect(existsSync(target)).toBe(false);
  });

  it("up creates the file and records it in state", async () => {
    const r = await project.up();
    expect(r.steps).toEqual({ marker: "create" });
    expect(await readFile(target, "utf8")).toBe("first");
    const [res] = resourcesOfType(await project.exportState(), TYPE);
    expect(res?.outputs?.content).toBe("first");
    expect(res?.outputs?.schemaVersion).toBe(1);
    // Provider lines reach the CLI and name their resource.
    expect(r.diagnostics.join("\n")).toContain("LocalFile marker create");
  });

  it("a second up changes nothing", async () => {
    const r = await project.up({ expectNoChanges: true });
    expect(r.steps).toEqual({ marker: "same" });
  });

  it("a changed input updates in place, not replace", async () => {
    const r = await project.up({ env: { BTD_TEST_CONTENT: "second" } });
    expect(r.steps).toEqual({ marker: "update" });
    expect(await readFile(target, "utf8")).toBe("second");
  });

  it("refresh reads what is really there", async () => {
    await writeFile(target, "edited by hand");
    await project.refresh({ env: { BTD_TEST_CONTENT: "second" } });
    const [res] = resourcesOfType(await project.exportState(), TYPE);
    expect(res?.outputs?.content).toBe("edited by hand");
    const r = await project.up({ env: { BTD_TEST_CONTENT: "second" } });
    expect(r.steps).toEqual({ marker: "update" });
    expect(await readFile(target, "utf8")).toBe("second");
  });

  it("a resource removed from the program is deleted with the provider code stored in state", async () => {
    const r = await project.up({ env: { BTD_TEST_INCLUDE: "0" } });
    expect(r.steps).toEqual({ marker: "delete" });
    expect(existsSync(target)).toBe(false);
    expect(resourcesOfType(await project.exportState(), TYPE)).toHaveLength(0);
  });

  it("destroy removes everything", async () => {
    await project.up();
    expect(existsSync(target)).toBe(true);
    await project.destroy();
    expect(existsSync(target)).toBe(false);
    expect(resourcesOfType(await project.exportState(), TYPE)).toHaveLength(0);
  });
});
