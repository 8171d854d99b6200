/**
 * The SSH side of a filer session. The parent first connects itself (host
 * key checked against the pins during key exchange, then the key tried), so
 * a wrong pin, a refused key or an unreachable filer fails with a clear
 * message before rsync runs. rsync's remote-shell shim then opens its own
 * ssh2 connection with the settings it fetches from this process over a
 * Unix socket in a private 0700 folder (token-checked), so the bytes flow
 * rsync ↔ shim ↔ sshd without a relay through this process.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "ssh2";
import { BacktestDeployError } from "../errors.ts";
import { fingerprintOf, matchesPinned } from "./host-keys.ts";
import { connectConfig, type SshTarget } from "./ssh-connect.ts";
import { LineReader, type ShimConfig, type ShimHello } from "./tunnel-frames.ts";

export type TunnelTarget = SshTarget;

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
/** --expose-gc: the shim frees ssh2's packet buffers as it goes (ssh-shim.ts collectPackets). */
const SHIM_NODE_FLAGS = ["--no-warnings", "--expose-gc"];

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
  const preflight = await connectVerified(target, where);
  preflight.end();
  const dir = await mkdtemp(join(tmpdir(), "btd-ssh-"));
  const socketPath = join(dir, "s");
  const token = randomBytes(24).toString("hex");
  const config: ShimConfig = {
    host: target.host,
    port: target.port,
    user: target.user,
    privateKey: target.privateKey,
    hostKeys: target.hostKeys.map((k) => ({ type: k.type, blob: k.blob.toString("base64") })),
  };
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    serveShim(sock, token, config);
  });
  try {
    await listen(server, socketPath);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const rsh = [process.execPath, ...SHIM_NODE_FLAGS, shimPath(), socketPath].map(quoteForRsync).join(" ");
  return {
    rsh,
    env: { [TOKEN_ENV]: token },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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

function connectVerified(target: TunnelTarget, where: TunnelErrorContext): Promise<Client> {
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
    client.connect(
      connectConfig(target, (k) => {
        presented = k;
      }),
    );
  });
}

function serveShim(sock: Socket, token: string, config: ShimConfig): void {
  const reader = new LineReader();
  sock.on("error", () => sock.destroy());
  const onData = (chunk: Buffer) => {
    let got: ReturnType<LineReader["push"]>;
    try {
      got = reader.push(chunk);
    } catch {
      sock.destroy();
      return;
    }
    if (!got) return;
    sock.off("data", onData);
    let hello: ShimHello;
    try {
      hello = JSON.parse(got.line) as ShimHello;
    } catch {
      sock.destroy();
      return;
    }
    const given = Buffer.from(String(hello.token));
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      sock.destroy();
      return;
    }
    // Kept open: the shim exits when this process (or the session) goes away.
    sock.write(`${JSON.stringify(config)}\n`);
  };
  sock.on("data", onData);
}
