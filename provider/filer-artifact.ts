/**
 * FilerArtifact: a local file or folder published at a content-addressed
 * path on the shared filer, through rsync over the verified SSH tunnel to an
 * rrsync-restricted account. Published files are never changed in place: a
 * new content is a new name, uploaded (temp file, then rename), verified by
 * checksum, and only then are older versions beyond `retain` deleted.
 */
import { mkdir, stat, symlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { KindOps, OpContext, Props } from "./context.ts";
import { BacktestDeployError, hasCode } from "./errors.ts";
import { endpointFor, resolveEndpoint } from "./filer/endpoint.ts";
import { lookupRemote } from "./filer/remote-list.ts";
import { isContentAddressed, renderRemotePath, validateRemotePath } from "./filer/remote-path.ts";
import { contentChanges, deleteArgs, type ListEntry, pushArgs } from "./filer/rsync-args.ts";
import { DEFAULT_TIMEOUT_SECONDS, type FilerSession, withSession } from "./filer/session.ts";
import { inspectSource, type SourceInfo } from "./filer/source-hash.ts";
import { registerSecret } from "./redact.ts";
import { isUnknown, UNKNOWN } from "./unknown.ts";
import { Failures } from "./validate.ts";

export const FILER_ARTIFACT_SCHEMA_VERSION = 1;
export const DEFAULT_MODE = "0644";

export interface RetainedVersion {
  remotePath: string;
  sha256: string;
  sizeBytes: number;
}

export interface FilerArtifactInputs {
  btdName: string;
  /** Relative to the program folder; absent when only sha256 is known (fresh runner). */
  source?: string;
  folder: boolean;
  sha256: string;
  host: string;
  port: number;
  user: string;
  hostKeys: string[];
  privateKey?: string;
  /** The remotePath as the program wrote it, with {sha256}/{sha12}. */
  remotePathTemplate: string;
  /** Rendered: where the file lands, relative to the rrsync root. */
  remotePath: string;
  mode: string;
  retain: number;
  mutable: boolean;
}

export interface FilerArtifactOutputs extends FilerArtifactInputs {
  sizeBytes: number;
  uploadedAt: string;
  /** Earlier versions kept on the filer (newest first); delete removes them too. */
  retained: RetainedVersion[];
  schemaVersion: number;
}

export function upgradeState(raw: Props): FilerArtifactOutputs {
  // Version 1 is the first; later versions add their migrations here.
  const s = raw as unknown as FilerArtifactOutputs;
  return { ...s, retained: s.retained ?? [], schemaVersion: FILER_ARTIFACT_SCHEMA_VERSION };
}

/** Test knobs: throttle uploads (KiB/s) so tests can kill one mid-transfer; shorten --timeout. */
function knobs() {
  const bw = Number(process.env.BTD_FILER_BWLIMIT_KIB ?? "");
  const timeout = Number(process.env.BTD_FILER_TIMEOUT_SECONDS ?? "");
  return {
    timeoutSeconds: Number.isInteger(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS,
    bwlimitKiB: Number.isInteger(bw) && bw > 0 ? bw : undefined,
  };
}

function normalizeMode(value: unknown, f: Failures): string | undefined {
  if (isUnknown(value)) return undefined;
  if (value === undefined || value === null) return DEFAULT_MODE;
  const text = typeof value === "number" ? value.toString(8) : String(value);
  if (!/^0?[0-7]{3}$/.test(text)) {
    f.add("mode", `mode must be octal permissions like "0644" or "0444", got ${JSON.stringify(value)}`);
    return undefined;
  }
  return text.padStart(4, "0");
}

function sourceMissing(label: string, op: string, source: string | undefined): BacktestDeployError {
  return new BacktestDeployError({
    code: "BTD_FILER_SOURCE_MISSING",
    resource: label,
    op,
    reason: source
      ? `the source ${source} is not on this runner, and its bytes must be uploaded`
      : "no source was given, and bytes must be uploaded",
    hint: "build or download the file first (e.g. run the pipeline step that builds the env image on this runner), or point source at it",
  });
}

export async function checkFilerArtifact(olds: Props, news: Props, ctx: OpContext) {
  if (typeof news.privateKey === "string") registerSecret(news.privateKey);
  const f = new Failures();
  const endpoint = resolveEndpoint(news, ctx, f);
  const template = f.string("remotePath", news.remotePath, { required: true });
  if (template !== undefined) {
    const reason = validateRemotePath(template);
    if (reason) f.add("remotePath", `remotePath ${reason}`);
  }
  const mode = normalizeMode(news.mode, f);
  const retain = f.integer("retain", news.retain, { min: 0, max: 1000, fallback: 0 });
  const mutable = f.boolean("mutable", news.mutable, false);

  let sha256: string | undefined = isUnknown(news.sha256) ? UNKNOWN : undefined;
  const given = f.string("sha256", news.sha256);
  if (given !== undefined) {
    if (/^[0-9a-f]{64}$/.test(given)) sha256 = given;
    else f.add("sha256", `sha256 must be 64 lowercase hex digits, got ${JSON.stringify(given)}`);
  }
  let source: string | undefined;
  let folder = typeof olds.folder === "boolean" ? olds.folder : false;
  const sourceText = f.string("source", news.source);
  if (isUnknown(news.source)) source = UNKNOWN;
  if (sourceText !== undefined) {
    if (/[\0\r\n]/.test(sourceText)) f.add("source", "source must not contain NUL or newline characters");
    else {
      const abs = isAbsolute(sourceText) ? sourceText : resolve(sourceText);
      // Identity is content plus a path relative to the program folder, never an absolute path.
      source = relative(process.cwd(), abs) || ".";
      // With sha256 given (or unknown yet) no bytes need reading: a fresh runner previews without the file.
      const info = sha256 === undefined ? await inspectSource(abs) : await statFolder(abs);
      if (info) {
        folder = info.folder;
        sha256 ??= info.sha256;
      } else if (sha256 === undefined) {
        f.add(
          "source",
          `source ${sourceText} does not exist (resolved to ${abs}); give a file or folder to upload`,
        );
      }
    }
  } else if (news.source === undefined && given === undefined && !isUnknown(news.sha256)) {
    f.add("source", "give source (the file or folder to upload), sha256, or both");
  }
  if (!f.empty) return { failures: f.list };

  const known = sha256 !== undefined && sha256 !== UNKNOWN;
  const remotePath =
    template === undefined
      ? UNKNOWN
      : known
        ? renderRemotePath(template, sha256 as string)
        : isContentAddressed(template)
          ? UNKNOWN
          : template;
  if (
    known &&
    template !== undefined &&
    typeof olds.sha256 === "string" &&
    olds.sha256 !== sha256 &&
    olds.remotePathTemplate === template &&
    !isContentAddressed(template) &&
    !mutable
  ) {
    return {
      failures: [
        {
          property: "remotePath",
          reason: `the content changed (sha256 ${olds.sha256.slice(0, 12)}… → ${(sha256 as string).slice(0, 12)}…) but remotePath "${template}" has no {sha256} or {sha12}, so the published file would be overwritten in place under any job that has it open. Fix: put {sha12} in remotePath (recommended), or set mutable: true if nothing ever mounts or opens this file`,
        },
      ],
    };
  }
  const inputs: Props = {
    btdName: news.btdName,
    ...(source !== undefined ? { source } : {}),
    folder,
    sha256: sha256 ?? UNKNOWN,
    ...endpoint,
    ...(news.privateKey !== undefined ? { privateKey: news.privateKey } : {}),
    remotePathTemplate: template ?? (isUnknown(news.remotePath) ? UNKNOWN : undefined),
    remotePath,
    mode,
    retain,
    mutable,
  };
  return { inputs };
}

async function statFolder(abs: string): Promise<{ folder: boolean; sha256?: string } | undefined> {
  try {
    return { folder: (await stat(abs)).isDirectory() };
  } catch {
    return undefined;
  }
}

function stateOf(p: Props): FilerArtifactOutputs {
  return upgradeState(p);
}

async function stageSymlink(s: FilerSession, relPath: string, target: string): Promise<string> {
  const stage = await s.scratch();
  await mkdir(join(stage, dirname(relPath)), { recursive: true });
  await symlink(target, join(stage, relPath));
  return stage;
}

async function localSourceFor(i: FilerArtifactInputs, ctx: OpContext, op: string): Promise<SourceInfo> {
  if (!i.source || isUnknown(i.source)) throw sourceMissing(ctx.label, op, undefined);
  const info = await inspectSource(resolve(i.source));
  if (!info) throw sourceMissing(ctx.label, op, i.source);
  if (info.sha256 !== i.sha256) {
    throw new BacktestDeployError({
      code: "BTD_FILER_SOURCE_CHANGED",
      resource: ctx.label,
      op,
      reason: `${i.source} has sha256 ${info.sha256}, not the ${i.sha256} this deploy planned`,
      hint: "the file changed after preview, or sha256 does not belong to source; run pulumi up again",
    });
  }
  return info;
}

/** Uploads (or adopts an identical file already there), then verifies by checksum. */
async function upload(
  s: FilerSession,
  i: FilerArtifactInputs,
  src: SourceInfo,
  ctx: OpContext,
  fuzzy: boolean,
): Promise<{ adopted: boolean }> {
  const stage = await stageSymlink(s, i.remotePath, src.abs);
  const plan = {
    stageDir: stage,
    relPath: i.remotePath,
    folder: src.folder,
    mode: i.mode,
    fuzzy,
    ...knobs(),
  };
  ctx.progress.step("upload", `pushing ${src.size} bytes to ${s.endpoint} ${i.remotePath}`);
  const pushed = await s.rsync(pushArgs({ ...plan, checksum: true, dryRun: false }), {
    progressPhase: "upload",
    totalBytes: src.size,
  });
  const adopted = /Number of regular files transferred: 0\b/.test(pushed.stdout) && src.size > 0;
  ctx.progress.step(
    "upload",
    adopted
      ? `${i.remotePath} was already on the filer with the same checksum: adopted it`
      : `sent ${pushed.bytesSent ?? "?"} bytes for ${i.remotePath}`,
  );
  const check = await s.rsync(pushArgs({ ...plan, fuzzy: false, checksum: true, dryRun: true }));
  const left = contentChanges(check.stdout);
  if (left.length > 0) {
    throw new BacktestDeployError({
      code: "BTD_FILER_VERIFY_FAILED",
      resource: ctx.label,
      op: "verify",
      reason: `after the upload, ${i.remotePath} on the filer still differs from the source by checksum: ${left.slice(0, 5).join("; ")}`,
      hint: "something else writes this path on the filer; find it, then run pulumi up again",
    });
  }
  return { adopted };
}

async function removeRemote(s: FilerSession, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const empty = await s.scratch();
  await Promise.all(paths.map((p) => mkdir(join(empty, dirname(p)), { recursive: true })));
  await s.rsync(deleteArgs({ emptyDir: empty, relPaths: paths, ...knobs() }));
}

function outputsOf(
  i: FilerArtifactInputs,
  size: number,
  retained: RetainedVersion[],
  uploadedAt: string,
): Props {
  const outs: FilerArtifactOutputs = {
    ...i,
    sizeBytes: size,
    uploadedAt,
    retained,
    schemaVersion: FILER_ARTIFACT_SCHEMA_VERSION,
  };
  return outs as unknown as Props;
}

export const filerArtifactOps: KindOps = {
  check: checkFilerArtifact,

  async diff(_id, olds, news) {
    const o = stateOf(olds);
    const n = news as unknown as FilerArtifactInputs;
    const replaces: string[] = [];
    if (o.host !== n.host) replaces.push("host");
    if (o.port !== n.port) replaces.push("port");
    if (o.remotePathTemplate !== n.remotePathTemplate) replaces.push("remotePath");
    const changed = [
      o.sha256 !== n.sha256,
      o.remotePath !== n.remotePath,
      o.user !== n.user,
      JSON.stringify(o.hostKeys) !== JSON.stringify(n.hostKeys),
      o.mode !== n.mode,
      o.retain !== n.retain,
      o.mutable !== n.mutable,
      (o.privateKey ?? "") !== (n.privateKey ?? ""),
    ].some(Boolean);
    return { changes: replaces.length > 0 || changed, replaces };
  },

  async create(inputs, ctx) {
    const i = inputs as unknown as FilerArtifactInputs;
    const ep = endpointFor(inputs, ctx, "create");
    const src = await localSourceFor(i, ctx, "create");
    await withSession(ep, ctx, "create", (s) => upload(s, i, src, ctx, false));
    return {
      id: `${ep.user}@${ep.host}:${ep.port}/${i.remotePath}`,
      outs: outputsOf(i, src.size, [], new Date().toISOString()),
    };
  },

  async read(id, props, ctx) {
    const st = stateOf(props);
    const ep = endpointFor(props, ctx, "read");
    return withSession(ep, ctx, "read", async (s) => {
      let listable = true;
      let entry: ListEntry | undefined;
      try {
        entry = await lookupRemote(s, st.remotePath, knobs());
      } catch (err) {
        if (!hasCode(err, "BTD_FILER_WRITE_ONLY")) throw err;
        listable = false;
      }
      if (listable) {
        if (!entry || entry.kind !== (st.folder ? "dir" : "file")) {
          ctx.progress.step("read", `${st.remotePath} is gone from the filer`);
          return {};
        }
        if (!st.folder && entry.size !== st.sizeBytes) {
          ctx.progress.step(
            "read",
            `${st.remotePath} changed on the filer: ${entry.size} bytes, expected ${st.sizeBytes}`,
          );
          return { id, props: { ...props, sha256: "changed-on-filer", sizeBytes: entry.size } };
        }
      }
      // Same size (or unlistable): compare by checksum when the source is here.
      const info = st.source ? await inspectSource(resolve(st.source)) : undefined;
      if (!info || info.sha256 !== st.sha256) {
        if (!listable) {
          ctx.progress.step(
            "read",
            `the account ${s.endpoint} is write-only and ${st.source ?? "the source"} is not on this runner: the filer cannot be read, keeping the state as it is`,
          );
        }
        return { id, props };
      }
      const stage = await stageSymlink(s, st.remotePath, info.abs);
      const dry = await s.rsync(
        pushArgs({
          stageDir: stage,
          relPath: st.remotePath,
          folder: info.folder,
          mode: st.mode,
          fuzzy: false,
          checksum: true,
          dryRun: true,
          ...knobs(),
        }),
      );
      const diffs = contentChanges(dry.stdout);
      if (diffs.length === 0) return { id, props };
      if (diffs.some((l) => l.includes("+++++++++") && l.endsWith(st.remotePath))) return {};
      ctx.progress.step("read", `${st.remotePath} differs from its source by checksum on the filer`);
      return { id, props: { ...props, sha256: "changed-on-filer" } };
    });
  },

  async update(_id, olds, news, ctx) {
    const o = stateOf(olds);
    const n = news as unknown as FilerArtifactInputs;
    const ep = endpointFor(news, ctx, "update");
    const moved = o.remotePath !== n.remotePath;
    const contentChanged = moved || o.sha256 !== n.sha256 || o.mode !== n.mode;
    let retained = o.retained;
    let size = o.sizeBytes;
    let uploadedAt = o.uploadedAt;
    await withSession(ep, ctx, "update", async (s) => {
      if (contentChanged) {
        const src = await localSourceFor(n, ctx, "update");
        // The previous version sits beside the new name: rsync's --fuzzy uses it as the delta basis.
        await upload(s, n, src, ctx, moved && dirname(o.remotePath) === dirname(n.remotePath));
        size = src.size;
        uploadedAt = new Date().toISOString();
        if (moved)
          retained = [{ remotePath: o.remotePath, sha256: o.sha256, sizeBytes: o.sizeBytes }, ...o.retained];
      }
      const keep = retained.slice(0, n.retain).filter((r) => r.remotePath !== n.remotePath);
      const drop = retained.slice(n.retain).filter((r) => r.remotePath !== n.remotePath);
      if (drop.length > 0) {
        ctx.progress.step(
          "prune",
          `deleting ${drop.map((d) => d.remotePath).join(", ")} (retain ${n.retain})`,
        );
        try {
          await removeRemote(
            s,
            drop.map((d) => d.remotePath),
          );
          retained = keep;
        } catch (err) {
          if (!hasCode(err, "BTD_FILER_NO_DELETE")) throw err;
          ctx.progress.step(
            "prune",
            `the account may not delete: keeping ${drop.length} old version(s) listed in the state`,
          );
          retained = [...keep, ...drop];
        }
      } else {
        retained = keep;
      }
    });
    return { outs: outputsOf(n, size, retained, uploadedAt) };
  },

  async delete(_id, props, ctx) {
    const st = stateOf(props);
    const ep = endpointFor(props, ctx, "delete");
    const paths = [st.remotePath, ...st.retained.map((r) => r.remotePath)];
    await withSession(ep, ctx, "delete", async (s) => {
      await removeRemote(s, paths);
      ctx.progress.step("delete", `removed ${paths.join(", ")}`);
    });
  },
};
