/**
 * Pinned SSH host keys. There is no trust-on-first-use: the filer must
 * present one of the keys the program names, checked before any byte of
 * the transfer (or the client key) is sent.
 */
import { createHash } from "node:crypto";

export interface PinnedHostKey {
  /** e.g. "ssh-ed25519" */
  type: string;
  /** The raw public key blob (what the server presents). */
  blob: Buffer;
  /** "SHA256:…" as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

const KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;

/** OpenSSH's fingerprint spelling: unpadded base64 of the blob's sha256. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Parses "type base64 [comment]" or a known_hosts line "hosts type base64".
 * Returns a reason string when the line is not a usable public host key.
 */
export function parseHostKeyLine(line: string): PinnedHostKey | string {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => (KEY_TYPES as readonly string[]).includes(w));
  if (at < 0 || words[at + 1] === undefined) {
    return `not a public host key line (expected "<type> <base64>", type one of ${KEY_TYPES.join(", ")})`;
  }
  const type = words[at] as string;
  const b64 = words[at + 1] as string;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return `the key of type ${type} is not base64`;
  const blob = Buffer.from(b64, "base64");
  // The blob starts with its own type as an SSH string: a truncated or pasted-wrong key fails here.
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len < 0 || blob.length < 4 + len || blob.subarray(4, 4 + len).toString("latin1") !== type) {
    return `the ${type} key's data does not hold a ${type} key (truncated or mispasted?)`;
  }
  return { type, blob, fingerprint: fingerprintOf(blob) };
}

/** Host key algorithms to offer, so the server presents a key of a pinned type. */
export function hostKeyAlgorithmsFor(keys: readonly PinnedHostKey[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const algos = k.type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [k.type];
    for (const a of algos) if (!out.includes(a)) out.push(a);
  }
  return out;
}

export function matchesPinned(presented: Buffer, keys: readonly PinnedHostKey[]): boolean {
  return keys.some((k) => k.blob.equals(presented));
}

/** hostKeys may come from stack config as one string: one key per line. */
export function splitHostKeys(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"));
}
