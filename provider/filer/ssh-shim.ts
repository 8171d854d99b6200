/**
 * rsync's remote shell (`rsync -e`). It asks the parent backtest-deploy
 * process (over its private Unix socket, with the session token from the
 * environment) for the connection settings, opens its own ssh2 connection
 * (host key checked against the pins during key exchange), runs the command
 * rsync asked for and pipes rsync's stdin/stdout straight to the channel, so
 * the data path is rsync ↔ shim ↔ sshd with no relay hop. The key is held in
 * this process's memory only: never argv, env or disk. The shim exits when
 * the parent's socket closes, so a killed deploy leaves no transfer running.
 *
 * Usage (built by ssh-tunnel.ts): node ssh-shim.js SOCKET [-l USER] HOST COMMAND…
 * Only node: builtins, ssh2 and sibling helpers: it runs as plain `node` on a .ts or .js file.
 */
import { connect, Socket } from "node:net";
import { Client, type ClientChannel } from "ssh2";
import { fingerprintOf, matchesPinned, type PinnedHostKey } from "./host-keys.ts";
import { connectConfig } from "./ssh-connect.ts";
import { commandFromRshArgs, LineReader, type ShimConfig, type ShimHello } from "./tunnel-frames.ts";

const TOKEN_ENV = "BTD_SSH_SHIM_TOKEN";
const LOST = 255;
/** rsync's reads into the channel: 8 SSH packets of 32 KiB each, sent in one writev. */
const READ_BYTES = 256 * 1024;
/** See collectPackets. */
const GC_EVERY_BYTES = 16 * 1024 * 1024;
function die(message: string): never {
  process.stderr.write(`ssh-shim: ${message}\n`);
  process.exit(LOST);
}

function askParent(socketPath: string): Promise<{ config: ShimConfig; control: Socket }> {
  return new Promise((resolve) => {
    const control = connect({ path: socketPath });
    const reader = new LineReader();
    control.on("error", (err) => die(`lost the backtest-deploy process (${err.message})`));
    control.once("connect", () => {
      const hello: ShimHello = { token: process.env[TOKEN_ENV] ?? "" };
      control.write(`${JSON.stringify(hello)}\n`);
    });
    const onData = (chunk: Buffer) => {
      const got = reader.push(chunk);
      if (!got) return;
      control.off("data", onData);
      resolve({ config: JSON.parse(got.line) as ShimConfig, control });
    };
    control.on("data", onData);
    control.once("close", () => die("the backtest-deploy process closed the session"));
  });
}

async function main(): Promise<void> {
  const [socketPath, ...rshArgs] = process.argv.slice(2);
  if (!socketPath) die("usage: ssh-shim SOCKET [-l USER] HOST COMMAND...");
  const command = commandFromRshArgs(rshArgs);
  const { config } = await askParent(socketPath);
  const hostKeys: PinnedHostKey[] = config.hostKeys.map((k) => {
    const blob = Buffer.from(k.blob, "base64");
    return { type: k.type, blob, fingerprint: fingerprintOf(blob) };
  });
  let presented: Buffer | undefined;
  const client = new Client();
  // Our own socket, so the packets of one read can be corked into one write.
  const sock = new Socket();
  sock.setNoDelay(true);
  sock.connect({ host: config.host, port: config.port });
  client.on("error", (err) => {
    if (presented && !matchesPinned(presented, hostKeys)) {
      die(
        `host key ${fingerprintOf(presented)} of ${config.host}:${config.port} is not pinned (pinned: ${hostKeys.map((k) => k.fingerprint).join(", ")}); nothing was sent`,
      );
    }
    die(`ssh to ${config.user}@${config.host}:${config.port}: ${err.message}`);
  });
  client.once("ready", () => {
    client.exec(command, (err, channel) => {
      if (err) die(`cannot run the command on the filer: ${err.message}`);
      let exitCode = LOST;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        client.end();
        // Exit only after stdout is flushed: rsync reads the last bytes of the protocol from it.
        process.stdout.write("", () => process.exit(exitCode));
      };
      channel.on("exit", (code: number | null) => {
        exitCode = typeof code === "number" ? code : LOST;
      });
      channel.stderr.pipe(process.stderr, { end: false });
      channel.pipe(process.stdout, { end: false });
      channel.on("close", finish);
      // The filer dropping the connection without closing the channel must end rsync too.
      client.on("close", finish);
      forwardStdin(channel, sock);
    });
  });
  client.connect({ ...connectConfig({ ...config, hostKeys }, (k) => (presented = k)), sock });
}

/**
 * rsync's data into the channel through one reused buffer: stdin's stream
 * would allocate a fresh 64 KiB buffer per read, a GiB of garbage per GiB
 * sent. Each read is written with the socket corked, so its SSH packets
 * leave in one writev. ssh2 copies data into packets as it writes, except
 * what the window cannot take yet, which it keeps by reference: reading
 * pauses until that is sent, so the buffer is never overwritten under it.
 */
function forwardStdin(channel: ClientChannel, sock: Socket): void {
  let sinceGc = 0;
  let writes = 0;
  // The write whose completion resumes reading; 0 while reading runs.
  let resumeAfter = 0;
  const input = new Socket({
    fd: 0,
    readable: true,
    writable: false,
    onread: {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (n: number, buf: Uint8Array) => {
        const id = ++writes;
        sock.cork();
        channel.write(buf.subarray(0, n), () => {
          if (resumeAfter !== id) return;
          resumeAfter = 0;
          input.resume();
        });
        sock.uncork();
        sinceGc += n;
        if (sinceGc >= GC_EVERY_BYTES) {
          sinceGc = 0;
          collectPackets();
        }
        // Nothing left in the channel's queue: ssh2 has copied all of it into packets.
        if (channel.writableLength === 0) return true;
        resumeAfter = id;
        return false;
      },
    },
  });
  input.on("end", () => channel.end());
  input.on("error", () => channel.destroy());
}

/**
 * ssh2 allocates a fresh buffer for every SSH packet it sends (32 KiB of
 * rsync's data each). V8 collects them only once 64 MiB of such memory has
 * piled up, which more than doubled this process's footprint. The packets
 * die young, so a minor collection every few MiB frees them for a fraction
 * of a millisecond. (Run with --expose-gc, as ssh-tunnel.ts does; without it
 * this does nothing and memory is only higher.)
 */
function collectPackets(): void {
  const gc = (globalThis as { gc?: (o?: { type: "minor" | "major" }) => void }).gc;
  gc?.({ type: "minor" });
}
await main();
