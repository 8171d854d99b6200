/**
 * rsync's remote shell (`rsync -e`). rsync needs a program to run; the SSH
 * connection, its verified host key and the private key live in the parent
 * backtest-deploy process. This shim only relays: it connects to the
 * parent's Unix socket (in a private 0700 folder), names the command rsync
 * asked for, pipes stdin to it and relays the remote stdout, stderr and exit
 * status. No key ever reaches this process, its argv or its environment.
 *
 * Usage (built by ssh-tunnel.ts): node ssh-shim.js SOCKET [-l USER] HOST COMMAND…
 * Only node: builtins and the frame helpers: it runs as plain `node` on a .ts or .js file.
 */
import { connect } from "node:net";
import { commandFromRshArgs, FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT, FrameReader } from "./tunnel-frames.ts";

const TOKEN_ENV = "BTD_SSH_SHIM_TOKEN";
const LOST = 255;

function main(): void {
  const [socketPath, ...rshArgs] = process.argv.slice(2);
  if (!socketPath) {
    process.stderr.write("ssh-shim: usage: ssh-shim SOCKET [-l USER] HOST COMMAND...\n");
    process.exit(LOST);
  }
  const header = { token: process.env[TOKEN_ENV] ?? "", command: commandFromRshArgs(rshArgs) };
  const sock = connect({ path: socketPath, allowHalfOpen: true });
  let exitCode: number | undefined;
  sock.on("error", (err) => {
    process.stderr.write(`ssh-shim: lost the backtest-deploy process (${err.message})\n`);
    process.exit(LOST);
  });
  sock.once("connect", () => {
    sock.write(`${JSON.stringify(header)}\n`);
    process.stdin.pipe(sock);
  });
  const reader = new FrameReader();
  sock.on("data", (chunk: Buffer) => {
    reader.push(chunk, (type, data) => {
      if (type === FRAME_STDOUT) {
        if (!process.stdout.write(data)) {
          sock.pause();
          process.stdout.once("drain", () => sock.resume());
        }
      } else if (type === FRAME_STDERR) {
        process.stderr.write(data);
      } else if (type === FRAME_EXIT) {
        exitCode = data.readInt32BE(0);
      }
    });
  });
  sock.on("end", () => {
    const code = exitCode ?? LOST;
    if (exitCode === undefined)
      process.stderr.write("ssh-shim: the connection closed without an exit status\n");
    // Exit only after stdout is flushed: rsync reads the last bytes of the protocol from it.
    process.stdout.write("", () => process.exit(code));
  });
  process.stdin.on("error", () => sock.end());
}

main();
