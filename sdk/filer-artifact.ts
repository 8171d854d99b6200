import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./trampoline.ts";

export interface FilerArtifactArgs {
  /**
   * Where the file lands, relative to the deploy account's rrsync root, e.g.
   * "envs/proj-1.0.0-{sha12}.sqsh". `{sha256}`/`{sha12}` are replaced by the
   * content hash, so a new content is a new file. No absolute paths, "..",
   * NUL or newlines. Changing this (the template) replaces the artifact.
   */
  remotePath: pulumi.Input<string>;
  /**
   * The local file or folder to upload, relative to the program folder (or
   * absolute). Needed only when bytes must move: with `sha256` given, preview
   * and a no-op up work without it.
   */
  source?: pulumi.Input<string>;
  /** The content's sha256 when another resource knows it (e.g. an env image's output). Default: hashed from `source`. */
  sha256?: pulumi.Input<string>;
  /** Filer host. Default: stack config `backtest:filerHost`. Changing this replaces the artifact. */
  host?: pulumi.Input<string>;
  /** SSH port. Default: `backtest:filerPort`, else 22. Changing this replaces the artifact. */
  port?: pulumi.Input<number>;
  /** Deploy account. Default: `backtest:filerUser`. Changing it is an update (no transfer). */
  user?: pulumi.Input<string>;
  /** Deploy account's private key (OpenSSH/PEM text; keep it a secret). Default: `backtest:filerPrivateKey`. Held in memory only. */
  privateKey?: pulumi.Input<string>;
  /** The filer's pinned public host keys ("ssh-ed25519 AAAA…"). Required here or as `backtest:filerHostKeys` (one per line). */
  hostKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** Permissions on the filer. Default: "0644" (folders get x where r is set). */
  mode?: pulumi.Input<string>;
  /** How many earlier versions to keep on the filer after a content change. Default: 0. */
  retain?: pulumi.Input<number>;
  /**
   * Allow a content change of a `remotePath` without `{sha256}`/`{sha12}` to
   * overwrite the published file in place. UNSAFE for anything a job may have
   * mounted or open (NFS stale file handles). Default: false.
   */
  mutable?: pulumi.Input<boolean>;
}

/** A file or folder published on the shared filer through rsync to an rrsync account: immutable, verified, atomic. */
export class FilerArtifact extends pulumi.dynamic.Resource {
  /** Where the file is, relative to the rrsync root (the rendered template). */
  declare readonly remotePath: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly uploadedAt: pulumi.Output<string>;
  /** Earlier versions kept on the filer (newest first). */
  declare readonly retained: pulumi.Output<{ remotePath: string; sha256: string; sizeBytes: number }[]>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: FilerArtifactArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("FilerArtifact"),
      name,
      {
        btdName: name,
        ...args,
        // An output too: registered even when not given (then hashed from source).
        sha256: args.sha256,
        sizeBytes: undefined,
        uploadedAt: undefined,
        retained: undefined,
        schemaVersion: undefined,
      },
      { ...opts, additionalSecretOutputs: ["privateKey"] },
      "backtest",
      "FilerArtifact",
    );
  }
}
export { FilerLink, type FilerLinkArgs } from "./filer-link.ts";
