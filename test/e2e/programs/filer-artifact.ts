/**
 * One FilerArtifact (and optionally a FilerLink to it) driven by env vars, so
 * a test can change one knob per run:
 * FA_HOST, FA_PORT, FA_USER, FA_HOST_KEY: the filer;
 * FA_KEY: the private key, passed as a secret input (unset: the key comes
 * from stack config backtest:filerPrivateKey);
 * FA_SOURCE (default "image.sqsh", relative to the program folder),
 * FA_SHA256 (optional), FA_REMOTE (remotePath template), FA_RETAIN;
 * FA_LINK ("1": add the link "proj/current"), FA_LINK_TARGET (default: the
 * artifact's file name), FA_VERIFY (the link's verify command).
 */
import * as pulumi from "@pulumi/pulumi";
import { FilerArtifact, FilerLink } from "backtest-deploy";

export default async () => {
  const env = process.env;
  const connection = {
    host: env.FA_HOST,
    port: Number(env.FA_PORT),
    user: env.FA_USER,
    hostKeys: [env.FA_HOST_KEY ?? ""],
    ...(env.FA_KEY ? { privateKey: pulumi.secret(env.FA_KEY) } : {}),
  };
  const image = new FilerArtifact("image", {
    ...connection,
    source: env.FA_SOURCE ?? "image.sqsh",
    ...(env.FA_SHA256 ? { sha256: env.FA_SHA256 } : {}),
    remotePath: env.FA_REMOTE ?? "proj/envs/proj-{sha12}.sqsh",
    retain: Number(env.FA_RETAIN ?? "0"),
  });
  const outputs: Record<string, unknown> = {
    remotePath: image.remotePath,
    sha256: image.sha256,
    sizeBytes: image.sizeBytes,
  };
  if (env.FA_LINK === "1") {
    const link = new FilerLink("current", {
      ...connection,
      linkPath: "proj/current",
      target: env.FA_LINK_TARGET ?? image.remotePath.apply((p) => p.replace(/^proj\//, "")),
      ...(env.FA_VERIFY ? { verify: env.FA_VERIFY } : {}),
    });
    outputs.linkTarget = link.target;
  }
  return outputs;
};
