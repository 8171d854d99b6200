/**
 * The dynamic provider that Pulumi serializes into state.
 *
 * Pulumi stores each provider's code in state and later runs that old code
 * against whatever version of this package is installed (refresh, destroy,
 * deletes of resources no longer in the program). So the serialized code is
 * a trampoline: each method captures only the `kind` string and calls
 * `runOp` of `backtest-deploy/provider`, resolved by package name from the
 * program folder at call time. Nothing else is captured: no module object
 * (an internal path would be baked into state), no native function, and no
 * `require` (this is an ES module). `process` is a global the serializer
 * refers to by name.
 */
import type * as pulumi from "@pulumi/pulumi";

type RunOp = (kind: string, method: string, args: readonly unknown[]) => Promise<unknown>;

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/** One provider object per kind, so Pulumi's serialization cache hits for every resource of that kind. */
export function providerFor(kind: string): pulumi.dynamic.ResourceProvider {
  let provider = providers.get(kind);
  if (provider === undefined) {
    provider = makeProvider(kind);
    providers.set(kind, provider);
  }
  return provider;
}

function makeProvider(kind: string): pulumi.dynamic.ResourceProvider {
  // Each body repeats the lookup on purpose: a shared helper function would be
  // serialized too, and anything it captured with it.
  return {
    configure: (req) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "configure", [req.config]) as Promise<void>,
    check: (olds, news) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "check", [olds, news]) as Promise<pulumi.dynamic.CheckResult>,
    diff: (id, olds, news) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "diff", [id, olds, news]) as Promise<pulumi.dynamic.DiffResult>,
    create: (inputs) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "create", [inputs]) as Promise<pulumi.dynamic.CreateResult>,
    read: (id, props) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "read", [id, props]) as Promise<pulumi.dynamic.ReadResult>,
    update: (id, olds, news) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "update", [id, olds, news]) as Promise<pulumi.dynamic.UpdateResult>,
    delete: (id, props) =>
      (
        process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(
          "backtest-deploy/provider",
        ) as {
          runOp: RunOp;
        }
      ).runOp(kind, "delete", [id, props]) as Promise<void>,
  };
}
