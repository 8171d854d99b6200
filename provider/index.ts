/**
 * The stable entry point that serialized providers call.
 *
 * Pulumi stores each dynamic provider's code in state and, for refresh,
 * destroy and deletes of resources no longer in the program, runs that *old*
 * code against the *installed* package. The code we store (sdk/trampoline.ts)
 * only captures a kind string and calls `runOp(kind, method, args)` of
 * `backtest-deploy/provider`, resolved by package name. So this signature
 * and the kind names must keep working in every release; state written by
 * earlier releases is upgraded by each kind's upgradeState.
 */
import type { KindOps, OpContext, Props, StackConfig } from "./context.ts";
import { BacktestDeployError, formatMessage } from "./errors.ts";
import { createProgress } from "./progress.ts";
import { redact } from "./redact.ts";

export type { CheckResult, CreateResult, DiffResult, KindOps, Props, ReadResult } from "./context.ts";
export { UNKNOWN } from "./unknown.ts";

export type Method = "configure" | "check" | "diff" | "create" | "read" | "update" | "delete";

const KINDS: Record<string, () => Promise<KindOps>> = {
  LocalFile: async () => (await import("./local-file.ts")).localFileOps,
  CondaSquashEnv: async () => (await import("./conda-squash-env.ts")).condaSquashEnvOps,
  FilerArtifact: async () => (await import("./filer-artifact.ts")).filerArtifactOps,
  FilerLink: async () => (await import("./filer-link.ts")).filerLinkOps,
  JenkinsJob: async () => (await import("./jenkins-job.ts")).jenkinsJobOps,
};

export const KIND_NAMES: readonly string[] = Object.keys(KINDS);

let stackConfig: StackConfig = { get: () => undefined };

/** The resource's name travels in its inputs so every line can name it. */
function labelOf(kind: string, args: readonly unknown[]): string {
  for (const a of args) {
    if (a && typeof a === "object" && typeof (a as Props).btdName === "string") {
      return `${kind} ${(a as Props).btdName as string}`;
    }
  }
  return kind;
}

export async function runOp(kind: string, method: Method, args: readonly unknown[]): Promise<unknown> {
  if (method === "configure") {
    const config = args[0] as StackConfig | undefined;
    if (config && typeof config.get === "function") stackConfig = { get: (k) => config.get(k) };
    return undefined;
  }
  const load = KINDS[kind];
  if (!load) {
    throw new BacktestDeployError({
      code: "BTD_PROVIDER_UNKNOWN_KIND",
      reason: `unknown resource kind "${kind}" (this package knows ${KIND_NAMES.join(", ")})`,
      hint: "install the backtest-deploy version that wrote this state, or a newer one",
    });
  }
  const ops = await load();
  const label = labelOf(kind, args);
  const ctx: OpContext = { label, progress: createProgress(label), config: stackConfig };
  try {
    return withoutUndefined(await dispatch(ops, method, args, ctx));
  } catch (err) {
    throw toReportable(err, label, method);
  }
}

async function dispatch(
  ops: KindOps,
  method: Method,
  args: readonly unknown[],
  ctx: OpContext,
): Promise<unknown> {
  switch (method) {
    case "check":
      return ops.check(args[0] as Props, args[1] as Props, ctx);
    case "diff":
      return ops.diff(args[0] as string, args[1] as Props, args[2] as Props, ctx);
    case "create":
      return ops.create(args[0] as Props, ctx);
    case "read":
      return ops.read(args[0] as string, (args[1] ?? {}) as Props, ctx);
    case "update":
      return ops.update(args[0] as string, args[1] as Props, args[2] as Props, ctx);
    case "delete":
      return ops.delete(args[0] as string, args[1] as Props, ctx);
    default:
      throw new BacktestDeployError({
        code: "BTD_PROVIDER_UNKNOWN_METHOD",
        reason: `unknown method ${method}`,
      });
  }
}

/**
 * Results cross to the engine as protobuf Structs, which have no `undefined`
 * ("Unexpected struct type"): an absent optional value is simply left out.
 */
export function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : withoutUndefined(v)));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out;
  }
  return value;
}

/** Errors cross a gRPC boundary as text: make sure it names the resource and holds no secret. */
function toReportable(err: unknown, label: string, op: string): Error {
  if (err instanceof BacktestDeployError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new BacktestDeployError({
    code: "BTD_PROVIDER_UNEXPECTED",
    resource: label,
    op,
    reason: redact(reason),
    cause: err,
  });
}

export { formatMessage };
