/**
 * FilerArtifact and FilerLink through the real Pulumi CLI against the
 * sandbox filer (OpenSSH sshd, Debian's locking Python rrsync). Loads the
 * compiled package: run `npx tsc -p tsconfig.build.json` first.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Filer, startFiler } from "../support/filer/index.ts";
import {
  createProject,
  makeWorkDir,
  type OpOutcome,
  type PulumiProject,
  REPO_ROOT,
} from "../support/pulumi/harness.ts";

const PROGRAM = join(REPO_ROOT, "test/e2e/programs/filer-artifact.ts");
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

let filer: Filer;
beforeAll(async () => {
  filer = await startFiler({ mode: "rw" });
});
afterAll(async () => filer?.stop());

function filerEnv(): Record<string, string> {
  return {
    FA_HOST: filer.host,
    FA_PORT: String(filer.port),
    FA_USER: filer.user,
    FA_HOST_KEY: filer.hostKey,
  };
}

/** Every regular file and symlink under the filer root, relative to it. */
async function filesOnFiler(dir = filer.root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesOnFiler(p)));
    else out.push(relative(filer.root, p));
  }
  return out.sort();
}

/** The private key in every form a leak could take: plain, base64, hex, and each base64 line of its body. */
function keyForms(key: string): string[] {
  const body = key
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .map((l) => l.trim());
  const raw = Buffer.from(body.join(""), "base64");
  return [
    key.trim(),
    Buffer.from(key).toString("base64"),
    Buffer.from(key).toString("hex"),
    body.join(""),
    raw.toString("hex"),
    ...body.filter((l) => l.length >= 16),
  ];
}

function shown(o: OpOutcome): string[] {
  return o.events.flatMap((e) =>
    e.diagnosticEvent && e.diagnosticEvent.severity !== "debug" ? [e.diagnosticEvent.message] : [],
  );
}

async function expectNoKey(project: PulumiProject, outcomes: OpOutcome[]): Promise<void> {
  const forms = keyForms(filer.privateKey);
  const texts = [
    ["state file", await project.stateFileText()],
    ["exported state", JSON.stringify(await project.exportState())],
    ...outcomes.flatMap((o, i) => [
      [`output #${i}`, o.output],
      // Pulumi's Node SDK logs RegisterResource requests and responses, secrets included, at
      // debug severity; the CLI never shows those, so what a user sees is checked.
      [`diagnostics #${i}`, shown(o).join("\n")],
      [`events #${i}`, JSON.stringify(o.events.filter((e) => e.diagnosticEvent?.severity !== "debug"))],
    ]),
  ] as const;
  for (const [what, text] of texts) {
    for (const form of forms) expect(text.includes(form), `${what} holds the private key`).toBe(false);
  }
}

describe("FilerArtifact + FilerLink with the key as a secret input", () => {
  let project: PulumiProject;
  let env: Record<string, string>;
  const outcomes: OpOutcome[] = [];
  const keep = async <T extends OpOutcome>(o: Promise<T>) => {
    const r = await o;
    outcomes.push(r);
    return r;
  };

  beforeAll(async () => {
    env = { ...filerEnv(), FA_KEY: filer.privateKey, FA_LINK: "1", FA_VERIFY: 'test -n "$BTD_LINK_TARGET"' };
    project = await createProject({ projectName: "filer-e2e", programModule: PROGRAM, env });
    // Something on the filer this stack did not create: it must survive everything below.
    await mkdir(join(filer.root, "proj/envs"), { recursive: true });
    await writeFile(join(filer.root, "proj/envs/someone-else.sqsh"), "not ours\n");
  });
  afterAll(async () => project?.dispose());

  it("creates, no-ops, updates by a new name, survives a fresh checkout, repairs drift, verifies flips, destroys", async () => {
    const one = Buffer.alloc(300_000, "a");
    await writeFile(join(project.workDir, "image.sqsh"), one);
    const created = await keep(project.up());
    expect(created.steps).toEqual({ image: "create", current: "create" });
    const firstPath = `proj/envs/proj-${sha256(one).slice(0, 12)}.sqsh`;
    expect(created.outputs?.remotePath?.value).toBe(firstPath);
    expect((await readFile(join(filer.root, firstPath))).equals(one)).toBe(true);
    expect(await readlink(join(filer.root, "proj/current"))).toBe(firstPath.replace("proj/", ""));

    // No-op: nothing at all reaches the filer.
    await filer.clearCommandLog();
    const noop = await keep(project.up({ expectNoChanges: true }));
    expect(noop.steps).toEqual({ image: "same", current: "same" });
    expect(await filer.commandLog()).toEqual([]);

    // Content change: a new name, verified, then the old one deleted; the link flips to it.
    const two = Buffer.concat([one, Buffer.from("one more package\n")]);
    await writeFile(join(project.workDir, "image.sqsh"), two);
    const changed = await keep(project.up());
    expect(changed.steps).toEqual({ image: "update", current: "update" });
    const secondPath = `proj/envs/proj-${sha256(two).slice(0, 12)}.sqsh`;
    expect((await readFile(join(filer.root, secondPath))).equals(two)).toBe(true);
    expect(existsSync(join(filer.root, firstPath))).toBe(false);
    expect(await readlink(join(filer.root, "proj/current"))).toBe(secondPath.replace("proj/", ""));
    expect(await filesOnFiler()).toEqual(["proj/current", "proj/envs/someone-else.sqsh", secondPath].sort());

    // A fresh CI checkout without the image, sha256 known: preview and up change nothing.
    const fresh = await createProject({
      projectName: "filer-e2e",
      programModule: PROGRAM,
      workDir: await makeWorkDir("btd-fresh-"),
      backendUrl: project.backendUrl,
      env: { ...env, FA_SHA256: sha256(two) },
    });
    try {
      expect(existsSync(join(fresh.workDir, "image.sqsh"))).toBe(false);
      await filer.clearCommandLog();
      const preview = await keep(fresh.preview({ expectNoChanges: true }));
      expect(preview.steps).toEqual({ image: "same", current: "same" });
      const up = await keep(fresh.up({ expectNoChanges: true }));
      expect(up.steps).toEqual({ image: "same", current: "same" });
      expect(await filer.commandLog()).toEqual([]);
    } finally {
      await fresh.dispose();
    }

    // Deleted behind our back: refresh sees it, up puts the same bytes back.
    await rm(join(filer.root, secondPath));
    await keep(project.refresh());
    const drift = await keep(project.preview());
    expect(drift.steps.image).toBe("create");
    const repaired = await keep(project.up());
    expect(repaired.steps.image).toBe("create");
    expect((await readFile(join(filer.root, secondPath))).equals(two)).toBe(true);
    expect((await keep(project.preview({ expectNoChanges: true }))).steps.image).toBe("same");

    // A failing verify: the update fails and the link stays where it was, on the filer and in state.
    const refused = await keep(
      project.up({
        env: { FA_LINK_TARGET: "envs/broken.sqsh", FA_VERIFY: "echo image is broken >&2; exit 3" },
        allowFailure: true,
      }),
    );
    expect(refused.ok).toBe(false);
    expect(refused.output + refused.diagnostics.join("\n")).toMatch(/exited with code 3/);
    expect(await readlink(join(filer.root, "proj/current"))).toBe(secondPath.replace("proj/", ""));
    expect((await keep(project.preview({ expectNoChanges: true }))).steps.current).toBe("same");

    // Destroy removes exactly what the stack created.
    await keep(project.destroy());
    expect(await filesOnFiler()).toEqual(["proj/envs/someone-else.sqsh"]);

    await expectNoKey(project, outcomes);
  });
});

describe("FilerArtifact with the key from stack config", () => {
  let project: PulumiProject;
  beforeAll(async () => {
    project = await createProject({
      projectName: "filer-e2e-config",
      programModule: PROGRAM,
      env: { ...filerEnv(), FA_REMOTE: "cfg/img-{sha12}.bin" },
    });
    project.setConfig({ "backtest:filerPrivateKey": { value: filer.privateKey, secret: true } });
  });
  afterAll(async () => project?.dispose());

  it("uploads with the configured key, keeps no key in state, no-ops and destroys", async () => {
    const bytes = Buffer.from("configured key\n");
    await writeFile(join(project.workDir, "image.sqsh"), bytes);
    const outcomes = [await project.up()];
    const path = `cfg/img-${sha256(bytes).slice(0, 12)}.bin`;
    expect((await readFile(join(filer.root, path))).equals(bytes)).toBe(true);

    const state = await project.exportState();
    const image = (state.deployment.resources ?? []).find((r) => r.urn.endsWith("::image"));
    expect(image?.outputs?.remotePath).toBe(path);
    // Read at op time, never copied into state (not even encrypted).
    expect(image?.inputs && "privateKey" in image.inputs).toBe(false);
    expect(image?.outputs && "privateKey" in image.outputs).toBe(false);

    await filer.clearCommandLog();
    outcomes.push(await project.up({ expectNoChanges: true }));
    expect(await filer.commandLog()).toEqual([]);

    outcomes.push(await project.destroy());
    expect(existsSync(join(filer.root, path))).toBe(false);
    await expectNoKey(project, outcomes);
  });
});
