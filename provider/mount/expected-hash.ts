/**
 * The hash a job was rendered with: the image's content-addressed name
 * carries its first 12 hex digits, and a job may also pass the full sha256.
 * Either is enough to refuse an image that is not the one the job expects.
 */
import { basename } from "node:path";
import { BacktestDeployError } from "../errors.ts";

export interface ExpectedHash {
  /** Full sha256, or a prefix of it (12 hex digits from the name). */
  hex: string;
  from: string;
}

const NAME_HASH = /-([0-9a-f]{12})\.sqsh$/;

export function sha12OfName(image: string): string | undefined {
  return basename(image).match(NAME_HASH)?.[1];
}

export function resolveExpectedHash(image: string, sha256: string | undefined): ExpectedHash {
  const fromName = sha12OfName(image);
  if (sha256 && fromName && !sha256.startsWith(fromName)) {
    throw new BacktestDeployError({
      code: "BTD_MOUNT_HASH_CONFLICT",
      reason: `--sha256 ${sha256} does not start with ${fromName}, the hash in the image name ${basename(image)}`,
      hint: "render the job from one deploy: the image path and its sha256 must come from the same CondaSquashEnv outputs",
    });
  }
  if (sha256) return { hex: sha256, from: "--sha256" };
  if (fromName) return { hex: fromName, from: `the image name (${basename(image)})` };
  throw new BacktestDeployError({
    code: "BTD_MOUNT_NO_EXPECTED_HASH",
    reason: `${basename(image)} carries no content hash in its name (…-<12 hex>.sqsh) and no --sha256 was given`,
    hint: "pass --sha256 with the image's sha256 output, or use the content-addressed image name",
  });
}

export function matchesExpected(actualSha256: string, expected: ExpectedHash): boolean {
  return actualSha256.startsWith(expected.hex);
}
