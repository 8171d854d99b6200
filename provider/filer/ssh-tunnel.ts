/**
 * The SSH side of a filer session: one ssh2 connection held by this process
 * (private key in memory only, host key checked against the pins before
 * authentication), and a Unix socket in a private 0700 folder that the
 * remote-shell shim rsync runs connects back to. Each shim connection gets
 * its own exec channel running the command rsync asked for.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, type ClientChannel } from "ssh2";
import { BacktestDeployError } from "../errors.ts";
import { fingerprintOf, hostKeyAlgorithmsFor, matchesPinned, type PinnedHostKey } from "./host-keys.ts";
import { encodeExit, encodeFrame, FRAME_STDERR, FRAME_STDOUT, type ShimHeader } from "./tunnel-frames.ts";

export interface TunnelTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  hostKeys: readonly PinnedHostKey[];
}

export interface Tunnel {
  /** The value for `rsync -e`. */
  rsh: string;
  /** Environment rsync must pass to the shim (a per-session token, never the key). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TunnelErrorContext {
  resource: string;
  op: string;
}

const TOKEN_ENV = "BTD_SSH_SHIM_TOKEN";
const READY_TIMEOUT_MS = 20_000;
const KEEPALIVE_MS = 15_000;

function shimPath(): string {
  // Next to this module: ssh-shim.ts when run from source, ssh-shim.js from dist.
  const here = fileURLToPath(import.meta.url);
  const candidate = join(here, "..", `ssh-shim${extname(here)}`);
  return existsSync(candidate) ? candidate : join(here, "..", "ssh-shim.js");
}

function quoteForRsync(word: string): string {
  // rsync splits -e on spaces and honours quotes (not backslashes).
  return /\s/.test(word) ? `'${word}'` : word;
}

export async function openTunnel(target: TunnelTarget, where: TunnelErrorContext): Promise<Tunnel> {
  const client = await connectVerified(target, where);
  const dir = await mkdtemp(join(tmpdir(), "btd-ssh-"));
  const socketPath = join(dir, "s");
  const token = randomBytes(24).toString("hex");
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    serveShim(sock, client, token);
  });
  try {
    await listen(server, socketPath);
  } catch (err) {
    client.end();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const rsh = [process.execPath, "--no-warnings", shimPath(), socketPath].map(quoteForRsync).join(" ");
  return {
    rsh,
    env: { [TOKEN_ENV]: token },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function connectVerified(target: TunnelTarget, where: TunnelErrorContext): Promise<Client> {
  const client = new Client();
  let presented: Buffer | undefined;
  return new Promise<Client>((resolve, reject) => {
    client.once("ready", () => resolve(client));
    client.once("error", (err: Error & { level?: string }) => {
      client.end();
      const endpoint = `${target.user}@${target.host}:${target.port}`;
      if (presented && !matchesPinned(presented, target.hostKeys)) {
        reject(
          new BacktestDeployError({
            code: "BTD_FILER_HOST_KEY_MISMATCH",
            resource: where.resource,
            op: where.op,
            reason: `the filer ${endpoint} presented host key ${fingerprintOf(presented)}, which is not pinned (pinned: ${target.hostKeys.map((k) => k.fingerprint).join(", ")}); nothing was sent`,
            hint: "if the filer's host key really changed, confirm the new key with its administrators and update hostKeys; otherwise you may be talking to the wrong machine",
          }),
        );
        return;
      }
      const auth = err.level === "client-authentication";
      reject(
        new BacktestDeployError({
          code: auth ? "BTD_FILER_AUTH" : "BTD_FILER_CONNECT",
          resource: where.resource,
          op: where.op,
          reason: auth
            ? `the filer ${endpoint} refused the private key (${err.message})`
            : `cannot open SSH to ${endpoint}: ${err.message}`,
          hint: auth
            ? "check that privateKey matches the deploy account's authorized_keys entry and that user is right"
            : "check host and port, and that the filer is reachable from this runner",
          cause: err,
        }),
      );
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: READY_TIMEOUT_MS,
      keepaliveInterval: KEEPALIVE_MS,
      algorithms: {
        serverHostKey: hostKeyAlgorithmsFor(target.hostKeys) as never,
        // AES-GCM runs in OpenSSL (AES-NI); ssh2 may otherwise pick a cipher it computes in JS.
        cipher: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr"] as never,
      },
      // Runs during key exchange, before the client authenticates or opens a channel.
      hostVerifier: (key: Buffer) => {
        presented = Buffer.from(key);
        return matchesPinned(presented, target.hostKeys);
      },
    });
  });
}

function serveShim(sock: Socket, client: Client, token: string): void {
  let head = Buffer.alloc(0);
  const onHead = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(0x0a);
    if (nl < 0) {
      if (head.length > 1 << 20) sock.destroy();
      return;
    }
    sock.off("data", onHead);
    sock.pause();
    const rest = head.subarray(nl + 1);
    let header: ShimHeader;
    try {
      header = JSON.parse(head.subarray(0, nl).toString("utf8")) as ShimHeader;
    } catch {
      sock.destroy();
      return;
    }
    const given = Buffer.from(String(header.token));
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      sock.destroy();
      return;
    }
    client.exec(header.command, (err, channel) => {
      if (err) {
        sock.write(
          encodeFrame(
            FRAME_STDERR,
            Buffer.from(`ssh: cannot run the command on the filer: ${err.message}\n`),
          ),
        );
        sock.end(encodeExit(255));
        return;
      }
      relay(sock, channel, rest);
    });
  };
  sock.on("data", onHead);
  sock.on("error", () => sock.destroy());
}

function relay(sock: Socket, channel: ClientChannel, firstBytes: Buffer): void {
  let exitCode: number | undefined;
  const send = (frame: Buffer) => {
    if (!sock.write(frame)) {
      channel.pause();
      sock.once("drain", () => channel.resume());
    }
  };
  channel.on("data", (d: Buffer) => send(encodeFrame(FRAME_STDOUT, d)));
  channel.stderr.on("data", (d: Buffer) => send(encodeFrame(FRAME_STDERR, d)));
  channel.on("exit", (code: number | null) => {
    exitCode = typeof code === "number" ? code : 255;
  });
  channel.on("close", () => {
    if (!sock.destroyed) sock.end(encodeExit(exitCode ?? 255));
  });
  sock.on("close", () => channel.close());
  if (firstBytes.length > 0) channel.write(firstBytes);
  sock.pipe(channel);
  sock.resume();
}
