/**
 * FilerLink: the live pointer of an A/B setup, a symlink on the filer
 * (`current -> a/project-<hash>.sqsh`). It is flipped by sending a symlink
 * with rsync, which creates it under a temp name and renames it over the old
 * one, so readers see either the old or the new target, never nothing. An
 * optional verify command must pass before the flip.
 */
import { mkdir, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import type { KindOps, OpContext, Props } from "./context.ts";
import { BacktestDeployError, hasCode, tail } from "./errors.ts";
import { endpointFor, resolveEndpoint } from "./filer/endpoint.ts";
import { lookupRemote } from "./filer/remote-list.ts";
import { validateLinkTarget, validateRemotePath } from "./filer/remote-path.ts";
import { deleteArgs, linkArgs } from "./filer/rsync-args.ts";
import { DEFAULT_TIMEOUT_SECONDS, type FilerSession, withSession } from "./filer/session.ts";
import { registerSecret } from "./redact.ts";
import { Failures } from "./validate.ts";

export const FILER_LINK_SCHEMA_VERSION = 1;

export interface FilerLinkInputs {
  btdName: string;
  host: string;
  port: number;
  user: string;
  hostKeys: string[];
  privateKey?: string;
  /** Where the link lives, relative to the rrsync root. */
  linkPath: string;
  /** What it points at, as stored in the link (usually relative to the link's folder). */
  target: string;
  /** Shell command run locally before a flip; non-zero exit leaves the link as it was. */
  verify?: string;
}

export interface FilerLinkOutputs extends FilerLinkInputs {
  flippedAt: string;
  schemaVersion: number;
}

export function upgradeState(raw: Props): FilerLinkOutputs {
  return { ...(raw as unknown as FilerLinkOutputs), schemaVersion: FILER_LINK_SCHEMA_VERSION };
}

function knobs() {
  const timeout = Number(process.env.BTD_FILER_TIMEOUT_SECONDS ?? "");
  return { timeoutSeconds: Number.isInteger(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_SECONDS };
}

async function runVerify(i: FilerLinkInputs, ctx: OpContext, op: string): Promise<void> {
  if (!i.verify) return;
  ctx.progress.step("verify", `running ${i.verify}`);
  const r = await execa("sh", ["-c", i.verify], {
    reject: false,
    all: true,
    env: {
      BTD_LINK_PATH: i.linkPath,
      BTD_LINK_TARGET: i.target,
      BTD_FILER_HOST: i.host,
      BTD_FILER_PORT: String(i.port),
      BTD_FILER_USER: i.user,
    },
  });
  if (r.exitCode !== 0) {
    throw new BacktestDeployError({
      code: "BTD_FILER_LINK_VERIFY_FAILED",
      resource: ctx.label,
      op,
      reason: `verify command \`${i.verify}\` ${r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`}; ${i.linkPath} was left as it was:\n${tail(String(r.all ?? ""), 15)}`,
      hint: `fix ${i.target} (or the verify command) and run pulumi up again`,
    });
  }
}

async function flip(s: FilerSession, i: FilerLinkInputs, ctx: OpContext): Promise<void> {
  const stage = await s.scratch();
  await mkdir(join(stage, dirname(i.linkPath)), { recursive: true });
  await symlink(i.target, join(stage, i.linkPath));
  await s.rsync(linkArgs({ stageDir: stage, relPath: i.linkPath, ...knobs() }));
  ctx.progress.step("flip", `${i.linkPath} -> ${i.target}`);
}

async function apply(i: FilerLinkInputs, ctx: OpContext, op: string): Promise<Props> {
  await runVerify(i, ctx, op);
  await withSession(endpointFor(i as unknown as Props, ctx, op), ctx, op, (s) => flip(s, i, ctx));
  const outs: FilerLinkOutputs = {
    ...i,
    flippedAt: new Date().toISOString(),
    schemaVersion: FILER_LINK_SCHEMA_VERSION,
  };
  return outs as unknown as Props;
}

export const filerLinkOps: KindOps = {
  async check(_olds, news, ctx) {
    if (typeof news.privateKey === "string") registerSecret(news.privateKey);
    const f = new Failures();
    const endpoint = resolveEndpoint(news, ctx, f);
    const linkPath = f.string("linkPath", news.linkPath, { required: true });
    if (linkPath !== undefined) {
      const r = validateRemotePath(linkPath);
      if (r) f.add("linkPath", `linkPath ${r}`);
      else if (/\{sha(256|12)\}/.test(linkPath)) f.add("linkPath", "linkPath cannot hold {sha256}/{sha12}");
    }
    const target = f.string("target", news.target, { required: true });
    if (target !== undefined) {
      const r = validateLinkTarget(target);
      if (r) f.add("target", `target ${r}`);
    }
    const verify = f.string("verify", news.verify);
    if (!f.empty) return { failures: f.list };
    return {
      inputs: {
        btdName: news.btdName,
        ...endpoint,
        ...(news.privateKey !== undefined ? { privateKey: news.privateKey } : {}),
        linkPath: news.linkPath,
        target: news.target,
        ...(verify !== undefined ? { verify } : {}),
      },
    };
  },

  async diff(_id, olds, news) {
    const o = upgradeState(olds);
    const n = news as unknown as FilerLinkInputs;
    const replaces = (["host", "port", "linkPath"] as const).filter((k) => o[k] !== n[k]);
    const changed =
      o.target !== n.target ||
      o.user !== n.user ||
      (o.verify ?? "") !== (n.verify ?? "") ||
      JSON.stringify(o.hostKeys) !== JSON.stringify(n.hostKeys) ||
      (o.privateKey ?? "") !== (n.privateKey ?? "");
    return { changes: replaces.length > 0 || changed, replaces: [...replaces] };
  },

  async create(inputs, ctx) {
    const i = inputs as unknown as FilerLinkInputs;
    return { id: `${i.user}@${i.host}:${i.port}/${i.linkPath}`, outs: await apply(i, ctx, "create") };
  },

  async read(id, props, ctx) {
    const st = upgradeState(props);
    return withSession(endpointFor(props, ctx, "read"), ctx, "read", async (s) => {
      try {
        const entry = await lookupRemote(s, st.linkPath, knobs());
        if (entry?.kind !== "link") return {};
        return { id, props: { ...props, target: entry.target ?? "" } };
      } catch (err) {
        if (!hasCode(err, "BTD_FILER_WRITE_ONLY")) throw err;
        ctx.progress.step(
          "read",
          `the account ${s.endpoint} is write-only: the link cannot be read, keeping the state`,
        );
        return { id, props };
      }
    });
  },

  async update(_id, olds, news, ctx) {
    const o = upgradeState(olds);
    const n = news as unknown as FilerLinkInputs;
    if (o.target === n.target) {
      return {
        outs: { ...n, flippedAt: o.flippedAt, schemaVersion: FILER_LINK_SCHEMA_VERSION } as unknown as Props,
      };
    }
    return { outs: await apply(n, ctx, "update") };
  },

  async delete(_id, props, ctx) {
    const st = upgradeState(props);
    await withSession(endpointFor(props, ctx, "delete"), ctx, "delete", async (s) => {
      const empty = await s.scratch();
      await mkdir(join(empty, dirname(st.linkPath)), { recursive: true });
      await s.rsync(deleteArgs({ emptyDir: empty, relPaths: [st.linkPath], ...knobs() }));
    });
  },
};
