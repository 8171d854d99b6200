import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./trampoline.ts";

export interface LocalFileArgs {
  /** Where to write, absolute or relative to the program folder. Changing this replaces the file. */
  path: pulumi.Input<string>;
  /** The file's text (UTF-8). Changing this rewrites the file in place. */
  content: pulumi.Input<string>;
}

/** A text file on the machine that runs the deploy, written atomically. */
export class LocalFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: LocalFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("LocalFile"),
      name,
      { btdName: name, path: args.path, content: args.content, sha256: undefined, schemaVersion: undefined },
      opts,
      "backtest",
      "LocalFile",
    );
  }
}
