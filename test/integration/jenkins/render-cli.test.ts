/**
 * The offline render as a user runs it: through a link named after the bin,
 * as npm installs it in node_modules/.bin, on the example's job folder.
 */
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalXml, childText, parseXml } from "../../../provider/jenkins/canonical-xml.ts";

const REPO = resolve(import.meta.dirname, "../../..");
const JOB_FOLDER = join(REPO, "examples/backtest-pipeline/jenkins");

describe("backtest-deploy-render", () => {
  let dir: string;
  let bin: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "btd-render-cli-"));
    bin = join(dir, "backtest-deploy-render");
    await symlink(join(REPO, "provider/cli/backtest-deploy-render.ts"), bin);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const run = (args: string[]) => execa(process.execPath, ["--no-warnings", bin, ...args], { reject: false });

  it("renders the example's job folder to config.xml on stdout", async () => {
    const values = join(dir, "values.json");
    await writeFile(
      values,
      JSON.stringify({
        name: "meanrev/prod/backtest",
        vars: { keepBuilds: 30, schedule: "H 6 * * 1-5" },
        parameters: [{ name: "ENV_IMAGE", default: "/filer/envs/current & <b>", description: "env image" }],
        project: "meanrev",
        stack: "live",
      }),
    );
    const r = await run([JOB_FOLDER, values]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const root = parseXml(r.stdout);
    expect(root.name).toBe("flow-definition");
    expect(canonicalXml(r.stdout)).toContain("H 6 * * 1-5");
    // Escaped for XML on the way in, decoded to what the author wrote.
    expect(canonicalXml(r.stdout)).toContain("/filer/envs/current &amp; &lt;b&gt;");
    expect(childText(root, "description")).toContain("meanrev");
  });

  it("names the template's file and line for an unknown variable, and prints usage", async () => {
    const values = join(dir, "empty.json");
    await writeFile(values, "{}");
    const r = await run([JOB_FOLDER, values]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/jenkins-config\.xml:\d+:\d+: /);
    expect(r.stderr).toContain("vars.keepBuilds");

    const help = await run(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("VALUES.json");
    expect((await run([])).exitCode).toBe(2);
  });
});
