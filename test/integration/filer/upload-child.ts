/**
 * Runs one FilerArtifact check + create in its own process (inputs as JSON on
 * stdin), so tests can run two deploys at once or SIGKILL one mid-transfer.
 * Progress lines go to stderr.
 */
import type { Props } from "../../../provider/context.ts";
import { filerArtifactOps } from "../../../provider/filer-artifact.ts";
import { createProgress } from "../../../provider/progress.ts";

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const news = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Props;
const label = `FilerArtifact ${String(news.btdName)}`;
const ctx = { label, progress: createProgress(label, 0), config: { get: () => undefined } };
const checked = await filerArtifactOps.check({}, news, ctx);
if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
const created = await filerArtifactOps.create(checked.inputs as Props, ctx);
process.stdout.write(JSON.stringify(created.outs));
