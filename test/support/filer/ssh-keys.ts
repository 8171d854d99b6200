import { readFile } from "node:fs/promises";
import { execa } from "execa";

export interface SshKeyPair {
  /** OpenSSH private key text (unencrypted). */
  privateKey: string;
  /** "ssh-ed25519 AAAA..." without a comment. */
  publicKey: string;
  /** "SHA256:..." as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** Where the private key file lives; the public one is beside it with ".pub". */
  path: string;
}

/** Generates an unencrypted ed25519 key pair at `path` (and `path`.pub). */
export async function generateKeyPair(path: string): Promise<SshKeyPair> {
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  const [privateKey, publicLine, fingerprint] = await Promise.all([
    readFile(path, "utf8"),
    readFile(`${path}.pub`, "utf8"),
    fingerprintOf(`${path}.pub`),
  ]);
  return { privateKey, publicKey: keyTypeAndBlob(publicLine), fingerprint, path };
}

async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const { stdout } = await execa("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyPath]);
  const match = /\b(SHA256:\S+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${stdout}`);
  return match[1];
}

/** Drops the comment so the line compares equal to what servers and known_hosts carry. */
function keyTypeAndBlob(line: string): string {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob) throw new Error(`not a public key line: ${line}`);
  return `${type} ${blob}`;
}
