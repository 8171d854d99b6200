import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

const CHUNK = 1 << 20;

/**
 * sha256 of a file through one reused buffer. Images are GiBs: a read stream
 * allocates a fresh buffer per chunk and V8 frees them late, which cost ~70 MB
 * of peak memory on a 1 GiB image; this stays flat.
 */
export async function sha256File(path: string, onBytes?: (done: number) => void): Promise<string> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  const fh = await open(path, "r");
  let done = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
      onBytes?.(done);
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

export function sha256Text(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}
