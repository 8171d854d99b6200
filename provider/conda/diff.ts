/**
 * Which input changes rebuild the image. Pure: compares checked inputs
 * (content hashes for files), never the local image, which is a cache.
 */
import type { DiffResult, Props } from "../context.ts";
import { isUnknown } from "../unknown.ts";

/** Top-level inputs whose change means a different env or different image bytes. */
export const REPLACE_KEYS = [
  "specs",
  "environmentFile",
  "lockFile",
  "project",
  "channels",
  "overrideChannels",
  "prefix",
  "installerDialect",
] as const;
/** Squash flags that change the bytes; the others (processors, mem) only change how fast. */
export const SQUASHFS_REPLACE_KEYS = ["compression", "level", "blockSize"] as const;
/** Inputs that change what the provider does next time, not the image. */
export const UPDATE_KEYS = ["installer", "smokeTest", "keepLocalImage", "workDir"] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** File inputs are the same when their content is: a moved file is not a change to the image. */
function sameIdentity(key: string, a: unknown, b: unknown): boolean {
  if (key === "environmentFile" || key === "lockFile") {
    return same(
      (a as { sha256?: unknown } | undefined)?.sha256,
      (b as { sha256?: unknown } | undefined)?.sha256,
    );
  }
  return same(a, b);
}

export function diffInputs(olds: Props, news: Props): DiffResult {
  const replaces: string[] = [];
  let changes = false;
  for (const key of REPLACE_KEYS) {
    // An unknown value may turn out different: preview must show the replace it could be.
    if (isUnknown(news[key]) || !sameIdentity(key, olds[key], news[key])) replaces.push(key);
    else if (!same(olds[key], news[key])) changes = true; // e.g. the lock file moved: record its new path
  }
  const oldSq = (olds.squashfs ?? {}) as Record<string, unknown>;
  const newSq = (news.squashfs ?? {}) as Record<string, unknown>;
  if (
    isUnknown(news.squashfs) ||
    SQUASHFS_REPLACE_KEYS.some((k) => isUnknown(newSq[k]) || !same(oldSq[k], newSq[k]))
  ) {
    replaces.push("squashfs");
  } else if (!same(oldSq, newSq)) changes = true;
  for (const key of UPDATE_KEYS) if (!same(olds[key], news[key])) changes = true;
  if (replaces.length === 0) return { changes };
  // Two builds at one prefix cannot coexist: the old one goes first.
  const samePrefix = !isUnknown(news.prefix) && olds.prefix === news.prefix;
  return { changes: true, replaces, deleteBeforeReplace: samePrefix };
}
