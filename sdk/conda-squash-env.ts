import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./trampoline.ts";

export interface CondaSquashEnvSquashfsArgs {
  /** mksquashfs compressor: "zstd", "gzip", "xz", "lz4" or "lzo". Default: "zstd". Changing this replaces the image. */
  compression?: pulumi.Input<string>;
  /** Compression level (zstd 1-22, gzip and lzo 1-9). Default: 15 for zstd, 9 for gzip, 8 for lzo. Changing this replaces the image. */
  level?: pulumi.Input<number>;
  /** Block size in bytes, a power of two from 4096 to 1048576. Default: 1048576 (large reads suit NFS). Changing this replaces the image. */
  blockSize?: pulumi.Input<number>;
  /** mksquashfs -processors. Default: all of the runner's. Changing this does not rebuild. */
  processors?: pulumi.Input<number>;
  /** mksquashfs -mem, e.g. "512M" (bounds mksquashfs's memory). Default: "512M". Changing this does not rebuild. */
  mem?: pulumi.Input<string>;
}

export interface CondaSquashEnvArgs {
  /** Match specs to install, e.g. ["yourproject=1.0.0", "python=3.11"]. One of specs, environmentFile, lockFile. Changing this replaces the env. */
  specs?: pulumi.Input<pulumi.Input<string>[]>;
  /** An environment.yml, relative to the program folder; identified by content. Changing its content replaces the env. */
  environmentFile?: pulumi.Input<string>;
  /** An explicit lock (`conda list --explicit --md5`), relative to the program folder; installs exactly that list. Changing its packages replaces the env. */
  lockFile?: pulumi.Input<string>;
  /** The env's main package, which names the prefix and image. Default: the first spec that is not python (for a lock: its first noarch package). Changing this replaces the env. */
  project?: pulumi.Input<string>;
  /** Channels (URLs or names) to solve from. Default: none (the installer's own). Changing this replaces the env. */
  channels?: pulumi.Input<pulumi.Input<string>[]>;
  /** Ignore channels from condarc files. Default: true (only `channels` count). Changing this replaces the env. */
  overrideChannels?: pulumi.Input<boolean>;
  /** Tokens for channels that need them: channel URL prefix → token (sent as `/t/<token>/`). Pass a secret; never stored in outputs. */
  channelCredentials?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Absolute path where the env is built and where jobs mount the image (at most 255 bytes). Default: `<prefixRoot>/<project>-<version>-py<XY>`. Changing this replaces the env. */
  prefix?: pulumi.Input<string>;
  /** Folder under which the default prefix is made. Default: stack config backtest:condaPrefixRoot, else "/opt/envs". */
  prefixRoot?: pulumi.Input<string>;
  /** "mamba", "micromamba", "conda" (found on PATH) or an absolute path to one. Default: "mamba". Changing the kind replaces the env; another path of the same kind does not. */
  installer?: pulumi.Input<string>;
  /** Flags the installer speaks when its file name does not tell: "mamba", "micromamba" or "conda". Default: told by the installer's name. Changing this replaces the env. */
  installerDialect?: pulumi.Input<string>;
  /** Shell commands that must pass inside the image mounted at the prefix before it is published (PATH and CONDA_PREFIX set). Default: none. Changing this does not rebuild. */
  smokeTest?: pulumi.Input<pulumi.Input<string>[]>;
  /** mksquashfs settings. */
  squashfs?: pulumi.Input<CondaSquashEnvSquashfsArgs>;
  /** Scratch and image folder (relative to the program folder or absolute). Default: backtest:condaWorkDir, else ~/.cache/backtest-deploy/conda. Changing this does not rebuild. */
  workDir?: pulumi.Input<string>;
  /** Keep the image on this machine after the build (a FilerArtifact needs it to upload). Default: true. Changing this does not rebuild. */
  keepLocalImage?: pulumi.Input<boolean>;
}

/**
 * A conda environment built at its mount prefix, locked, smoke-tested and
 * squashed into a reproducible squashfs image named by its content hash.
 */
export class CondaSquashEnv extends pulumi.dynamic.Resource {
  /** Local path of the image (a cache on the runner that built it). */
  declare readonly imagePath: pulumi.Output<string>;
  /** `<project>-<version>-py<XY>-<sha12>.sqsh` */
  declare readonly imageName: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string>;
  declare readonly sizeBytes: pulumi.Output<number>;
  declare readonly prefix: pulumi.Output<string>;
  /** The explicit lock (`list --explicit --md5`), credentials stripped. */
  declare readonly lock: pulumi.Output<string>;
  declare readonly packages: pulumi.Output<
    { name: string; version: string; build: string; channel: string }[]
  >;
  declare readonly installer: pulumi.Output<string>;
  declare readonly installerVersion: pulumi.Output<string>;
  /** "present", "missing", "changed" or "not kept", as of the last create/refresh. */
  declare readonly localImage: pulumi.Output<string>;
  declare readonly schemaVersion: pulumi.Output<number>;

  constructor(name: string, args: CondaSquashEnvArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("CondaSquashEnv"),
      name,
      {
        btdName: name,
        ...args,
        // Inputs that are outputs too: listed so they are registered even when not given.
        prefix: args.prefix,
        installer: args.installer,
        imagePath: undefined,
        imageName: undefined,
        sha256: undefined,
        sizeBytes: undefined,
        lock: undefined,
        packages: undefined,
        installerVersion: undefined,
        localImage: undefined,
        schemaVersion: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "channelCredentials"] },
      "backtest",
      "CondaSquashEnv",
    );
  }
}
