/**
 * LocalFile: a text file on the machine that runs the deploy (a deploy
 * manifest, a rendered config for a local tool). The smallest resource of
 * the package; it also proves the provider wiring end to end.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { CheckFailure, KindOps, Props } from "./context.ts";
import { isUnknown } from "./unknown.ts";

export const LOCAL_FILE_SCHEMA_VERSION = 1;

export interface LocalFileInputs {
  btdName: string;
  /** Absolute, or relative to the program folder. */
  path: string;
  content: string;
}

export interface LocalFileOutputs extends LocalFileInputs {
  sha256: string;
  schemaVersion: number;
}

export function upgradeState(raw: Props): LocalFileOutputs {
  // Version 1 is the first; later versions add their migrations here.
  return { ...(raw as unknown as LocalFileOutputs), schemaVersion: LOCAL_FILE_SCHEMA_VERSION };
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function validateLocalFile(news: Props): CheckFailure[] {
  const failures: CheckFailure[] = [];
  if (!isUnknown(news.path) && (typeof news.path !== "string" || news.path.length === 0)) {
    failures.push({
      property: "path",
      reason: `path must be a non-empty string, got ${JSON.stringify(news.path)}`,
    });
  }
  if (!isUnknown(news.content) && typeof news.content !== "string") {
    failures.push({ property: "content", reason: `content must be a string, got ${typeof news.content}` });
  }
  return failures;
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const abs = isAbsolute(path) ? path : resolve(path);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = `${abs}.tmp-${process.pid}`;
  await writeFile(tmp, content, "utf8");
  await rename(tmp, abs);
}

export const localFileOps: KindOps = {
  async check(_olds, news) {
    const failures = validateLocalFile(news);
    return failures.length > 0 ? { failures } : { inputs: news };
  },

  async diff(_id, olds, news) {
    const o = upgradeState(olds);
    const replaces = o.path !== news.path ? ["path"] : [];
    const changes = replaces.length > 0 || o.content !== news.content;
    return { changes, replaces };
  },

  async create(inputs, ctx) {
    const i = inputs as unknown as LocalFileInputs;
    await writeAtomically(i.path, i.content);
    ctx.progress.step("create", `wrote ${i.path}`);
    const outs: LocalFileOutputs = {
      ...i,
      sha256: sha256(i.content),
      schemaVersion: LOCAL_FILE_SCHEMA_VERSION,
    };
    return { id: i.path, outs: outs as unknown as Props };
  },

  async read(id, props) {
    const state = upgradeState(props);
    let content: string;
    try {
      content = await readFile(state.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    const outs: LocalFileOutputs = { ...state, content, sha256: sha256(content) };
    return { id, props: outs as unknown as Props };
  },

  async update(_id, _olds, news, ctx) {
    const i = news as unknown as LocalFileInputs;
    await writeAtomically(i.path, i.content);
    ctx.progress.step("update", `rewrote ${i.path}`);
    const outs: LocalFileOutputs = {
      ...i,
      sha256: sha256(i.content),
      schemaVersion: LOCAL_FILE_SCHEMA_VERSION,
    };
    return { outs: outs as unknown as Props };
  },

  async delete(_id, props, ctx) {
    const state = upgradeState(props);
    await rm(state.path, { force: true });
    ctx.progress.step("delete", `removed ${state.path}`);
  },
};
