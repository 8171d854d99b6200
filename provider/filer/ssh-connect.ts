/**
 * ssh2 connection settings shared by the parent's preflight connection and
 * the shim's data connection: pinned host keys checked during key exchange
 * (before the client authenticates or opens a channel), ciphers computed in
 * OpenSSL, large windows. Only node: builtins and ssh2, so the shim can
 * import it as plain `node`.
 */
import type { ConnectConfig } from "ssh2";
import { hostKeyAlgorithmsFor, matchesPinned, type PinnedHostKey } from "./host-keys.ts";

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKeys: readonly PinnedHostKey[];
}

const READY_TIMEOUT_MS = 20_000;
const KEEPALIVE_MS = 15_000;

export function connectConfig(target: SshTarget, onPresented: (key: Buffer) => void): ConnectConfig {
  return {
    host: target.host,
    port: target.port,
    username: target.user,
    privateKey: target.privateKey,
    readyTimeout: READY_TIMEOUT_MS,
    keepaliveInterval: KEEPALIVE_MS,
    algorithms: {
      serverHostKey: hostKeyAlgorithmsFor(target.hostKeys) as never,
      // AES-GCM and chacha20 run in OpenSSL (AES-NI); ssh2 may otherwise pick a cipher it computes in JS.
      cipher: [
        "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com",
        "aes128-ctr",
        "aes256-ctr",
      ] as never,
      compress: ["none"] as never,
    },
    hostVerifier: (key: Buffer) => {
      const presented = Buffer.from(key);
      onPresented(presented);
      return matchesPinned(presented, target.hostKeys);
    },
  };
}
