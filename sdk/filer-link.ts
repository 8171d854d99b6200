import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./trampoline.ts";

export interface FilerLinkArgs {
  /** The link's path relative to the rrsync root, e.g. "proj/current". Changing this replaces the link. */
  linkPath: pulumi.Input<string>;
  /** What the link points at, as stored in it (usually relative to the link's folder). Changing it flips the link. */
  target: pulumi.Input<string>;
  /**
   * Shell command run locally before each flip, with BTD_LINK_PATH, BTD_LINK_TARGET,
   * BTD_FILER_HOST, BTD_FILER_PORT and BTD_FILER_USER set; a non-zero exit leaves the link as it was.
   */
  verify?: pulumi.Input<string>;
  /** Default: `backtest:filerHost`. Changing this replaces the link. */
  host?: pulumi.Input<string>;
  /** Default: `backtest:filerPort`, else 22. Changing this replaces the link. */
  port?: pulumi.Input<number>;
  /** Default: `backtest:filerUser`. */
  user?: pulumi.Input<string>;
  /** Default: `backtest:filerPrivateKey`. Held in memory only. */
  privateKey?: pulumi.Input<string>;
  /** Pinned host keys; required here or as `backtest:filerHostKeys`. */
  hostKeys?: pulumi.Input<pulumi.Input<string>[]>;
}

/** An atomic symlink on the filer (the live pointer of an A/B setup), flipped only after `verify` passes. */
export class FilerLink extends pulumi.dynamic.Resource {
  declare readonly linkPath: pulumi.Output<string>;
  declare readonly target: pulumi.Output<string>;
  declare readonly flippedAt: pulumi.Output<string>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: FilerLinkArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("FilerLink"),
      name,
      { btdName: name, ...args, flippedAt: undefined, schemaVersion: undefined },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "backtest",
      "FilerLink",
    );
  }
}
