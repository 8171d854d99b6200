/**
 * The handshake between the parent (which holds the key) and the remote-
 * shell shim that rsync runs. Over the parent's private Unix socket (a 0700
 * folder) the shim sends one JSON line with the session token; the parent
 * answers with one JSON line holding the connection settings, key included,
 * and keeps the socket open: the shim exits when it closes, so a killed
 * deploy never leaves an orphaned transfer running. The key crosses only
 * this socket and lives in the shim's memory; never argv, env or disk.
 */
export interface ShimHello {
  token: string;
}

export interface ShimConfig {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** Pinned host keys: type and base64 blob. */
  hostKeys: { type: string; blob: string }[];
}

/** Collects bytes until the first newline; returns the line and what followed, or undefined. */
export class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly limit: number;

  constructor(limit = 1 << 20) {
    this.limit = limit;
  }

  push(chunk: Buffer): { line: string; rest: Buffer } | undefined {
    this.buf = Buffer.concat([this.buf, chunk]);
    const nl = this.buf.indexOf(0x0a);
    if (nl < 0) {
      if (this.buf.length > this.limit) throw new Error("handshake line too long");
      return undefined;
    }
    return { line: this.buf.subarray(0, nl).toString("utf8"), rest: this.buf.subarray(nl + 1) };
  }
}

/**
 * rsync runs its remote shell as `<rsh> [-l user] host word…`; like ssh,
 * the remote command is the words joined by spaces (rsync already escaped them).
 */
export function commandFromRshArgs(args: readonly string[]): string {
  const rest = args[0] === "-l" ? args.slice(2) : args.slice();
  return rest.slice(1).join(" ");
}
