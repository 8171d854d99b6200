/**
 * How property values from engine events may be shown. Secrets arrive as
 * "[secret]" (the CLI masks them) or as a secret-signature object (the
 * Automation API passes them through): neither is ever printed. Values not
 * known until deploy arrive as the unknown sentinel.
 */
import { UNKNOWN } from "../unknown.ts";

export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_SIGNATURE = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** Signatures of values that are not secret by themselves: assets, archives, resource references, outputs. */
const PLAIN_SIGNATURES = new Set([
  "c44067f5952c0a294b673a41bacd8c17",
  "0def7320c3a5731c473e5ecbe6d01bc7",
  "5cf8f73096256a8f31e491e813e4eb8e",
  OUTPUT_SIGNATURE,
]);
export const MASKED = "[secret]";

export function isSecret(value: unknown): boolean {
  if (value === MASKED) return true;
  if (typeof value !== "object" || value === null || !(SECRET_SIGNATURE_KEY in value)) return false;
  const bag = value as Record<string, unknown>;
  const sig = bag[SECRET_SIGNATURE_KEY];
  if (sig === SECRET_SIGNATURE) return true;
  if (sig === OUTPUT_SIGNATURE) return bag.secret === true;
  // A signature this code does not know could be a newer spelling of a secret: do not show it.
  return typeof sig !== "string" || !PLAIN_SIGNATURES.has(sig);
}

/** True when the value or anything inside it is secret. */
export function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

export function isUnknownValue(value: unknown): boolean {
  return value === UNKNOWN;
}

/** A short, safe rendering of a scalar for a table cell; undefined when it should not be shown inline. */
export function showScalar(value: unknown, maxLength = 60): string | undefined {
  if (containsSecret(value)) return MASKED;
  if (isUnknownValue(value)) return "(known after deploy)";
  if (value === undefined || value === null) return "(none)";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string" && !value.includes("\n") && value.length <= maxLength) return value;
  return undefined;
}
