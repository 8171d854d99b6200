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
import { connect, type Socket } from "node:net";
import { Client } from "ssh2";
import { fingerprintOf, matchesPinned, type PinnedHostKey } from "./host-keys.ts";
import { connectConfig } from "./ssh-connect.ts";
import { commandFromRshArgs, LineReader, type ShimConfig, type ShimHello } from "./tunnel-frames.ts";

const TOKEN_ENV = "BTD_SSH_SHIM_TOKEN";
const LOST = 255;
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
      process.stdin.pipe(channel);
      channel.pipe(process.stdout, { end: false });
      channel.on("close", finish);
      // The filer dropping the connection without closing the channel must end rsync too.
      client.on("close", finish);
    });
  });
  client.connect({ ...connectConfig({ ...config, hostKeys }, (k) => (presented = k)) });
  process.stdin.on("error", () => client.end());
}

await main();
