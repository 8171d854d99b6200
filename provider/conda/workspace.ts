/**
 * Where a build keeps its things, all outside the prefix so nothing of ours
 * ends up in the image:
 *   <workDir>/<project>-<version>-py<XY>-<sha12>.sqsh   published images
 *   <workDir>/pkgs/                                     the installer's package cache (a cache: kept)
 *   <workDir>/builds/<prefix key>/                      one build's scratch (inputs, partial image, smoke cwd)
 *   <workDir>/owners/<prefix key>.json                  "this prefix is ours" while we hold it
 *   <cacheDir>/locks/                                   host-wide build slots
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { StackConfig } from "../context.ts";
import { sha256Text } from "../hash.ts";
import { resolveSetting } from "../settings.ts";

export interface Workspace {
  workDir: string;
  pkgsDir: string;
  /** MAMBA_ROOT_PREFIX for micromamba: it wants one even for -p installs. */
  rootPrefix: string;
  buildDir: string;
  ownerRecord: string;
  lockDir: string;
}

export function cacheDirOf(config: StackConfig): string {
  return resolveSetting("cache", undefined, config, join(homedir(), ".cache", "backtest-deploy")) as string;
}

export function workspaceFor(
  prefix: string,
  workDirInput: string | undefined,
  config: StackConfig,
): Workspace {
  const cacheDir = cacheDirOf(config);
  const raw = resolveSetting("condaWorkDir", workDirInput, config, join(cacheDir, "conda")) as string;
  const workDir = isAbsolute(raw) ? raw : resolve(raw);
  const key = sha256Text(prefix).slice(0, 16);
  return {
    workDir,
    pkgsDir: join(workDir, "pkgs"),
    rootPrefix: join(workDir, "root"),
    buildDir: join(workDir, "builds", key),
    ownerRecord: join(workDir, "owners", `${key}.json`),
    lockDir: join(cacheDir, "locks"),
  };
}

/** `meanrev-1.0.0-py311-0123456789ab.sqsh` */
export function imageFileName(stem: string, sha256: string): string {
  return `${stem}-${sha256.slice(0, 12)}.sqsh`;
}
