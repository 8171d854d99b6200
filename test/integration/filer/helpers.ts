import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpContext, Props } from "../../../provider/context.ts";
import { createProgress, setProgressSink } from "../../../provider/progress.ts";
import type { Filer } from "../../support/filer/index.ts";

export const lines: string[] = [];
setProgressSink((l) => lines.push(l));

export function ctxFor(name: string, config: Record<string, string> = {}): OpContext {
  return {
    label: `FilerArtifact ${name}`,
    progress: createProgress(`FilerArtifact ${name}`, 0),
    config: { get: (k) => config[k] },
  };
}

export function connection(f: Filer, over: Props = {}): Props {
  return {
    host: f.host,
    port: f.port,
    user: f.user,
    privateKey: f.privateKey,
    hostKeys: [f.hostKey],
    ...over,
  };
}

export async function tempFile(content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "btd-src-"));
  const p = join(dir, "image.sqsh");
  await writeFile(p, content);
  return p;
}

/** Every rsync server command line in the log, split into option words (before the "." separator). */
export function serverOptions(cmd: string): string[] {
  const words = cmd.split(/\s+/).slice(2);
  const dot = words.indexOf(".");
  return dot >= 0 ? words.slice(0, dot) : words;
}
