/**
 * The little protocol between the parent (which holds the SSH connection)
 * and the remote-shell shim that rsync runs. Shim → parent: one JSON header
 * line, then rsync's raw stdin. Parent → shim: frames [type:1][length:4][data],
 * because stdout, stderr and the exit status share one socket.
 */
export const FRAME_STDOUT = 1;
export const FRAME_STDERR = 2;
export const FRAME_EXIT = 3;

export interface ShimHeader {
  token: string;
  command: string;
}

export function encodeFrame(type: number, data: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

export function encodeExit(code: number): Buffer {
  const data = Buffer.allocUnsafe(4);
  data.writeInt32BE(code, 0);
  return encodeFrame(FRAME_EXIT, data);
}

/** Splits a byte stream into frames; keeps the unfinished tail for the next chunk. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (type: number, data: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= 5) {
      const len = this.pending.readUInt32BE(at + 1);
      if (this.pending.length - at < 5 + len) break;
      onFrame(this.pending.readUInt8(at), this.pending.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    this.pending = this.pending.subarray(at);
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
