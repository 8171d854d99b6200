/**
 * btd-preview-summary on the events of a real `pulumi preview` (Automation
 * API, file backend): the report lists each create, update, replace and
 * delete, shows what changed, and matches the op set the engine reported.
 */
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectChanges } from "../../provider/summary/resource-changes.ts";
import { createProject, type OpOutcome, type PulumiProject, REPO_ROOT } from "../support/pulumi/harness.ts";

const PROGRAM = join(REPO_ROOT, "test/e2e/programs/summary-local-files.ts");
const CLI = join(REPO_ROOT, "provider/cli/btd-preview-summary.ts");

describe("preview summary from real engine events", () => {
  let project: PulumiProject;
  let preview: OpOutcome;
  let eventsFile: string;

  beforeAll(async () => {
    project = await createProject({ projectName: "summary", programModule: PROGRAM });
    await project.up({ env: { BTD_SUMMARY_STEP: "1" } });
    preview = await project.preview({ env: { BTD_SUMMARY_STEP: "2" } });
    eventsFile = preview.eventsFile;
  });
  afterAll(async () => {
    await project?.dispose();
  });

  it("groups the engine's steps into one change per resource", () => {
    expect(preview.steps).toMatchObject({
      edited: "update",
      moved: "replace",
      dropped: "delete",
      added: "create",
    });
    const changes = collectChanges(preview.events as Parameters<typeof collectChanges>[0]).changes.map(
      (c) => `${c.op} ${c.kind} ${c.name}`,
    );
    expect(changes).toEqual([
      "delete LocalFile dropped",
      "replace LocalFile moved",
      "update LocalFile edited",
      "create LocalFile added",
    ]);
  });

  it("the command prints a Markdown report of the preview, from a file and from stdin", async () => {
    const fromFile = await execa(process.execPath, [CLI, eventsFile]);
    const md = fromFile.stdout;
    expect(md).toContain("### Pulumi preview of `summary` / `test`");
    expect(md).toContain("**1 to delete · 1 to replace · 1 to update · 1 to create** (1 unchanged)");
    expect(md).toContain("| - delete | LocalFile | `dropped` |");
    expect(md).toContain(
      "| +- replace | LocalFile | `moved` | `path`: `out/moved-a.txt` → `out/moved-b.txt` (forces replace) |",
    );
    expect(md).toContain(
      "| ~ update | LocalFile | `edited` | `content`: `version 1.0.0` → `version 1.1.0` |",
    );
    expect(md).toContain("| + create | LocalFile | `added` |");
    expect(md).not.toContain("kept");

    const fromStdin = await execa(process.execPath, [CLI, "-"], { inputFile: eventsFile });
    expect(fromStdin.stdout).toBe(md);
  });
});
