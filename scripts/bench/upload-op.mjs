/**
 * One FilerArtifact op in a process of its own, for scripts/bench/upload.ts.
 * Plain JavaScript on purpose: a .ts entry would load Node's type stripper
 * (~15 MB), and the memory measured must be the provider's alone. It loads
 * only the provider's modules: dist/ (what Pulumi loads), or the TypeScript
 * sources with --source. Reads the request as JSON on stdin
 * ({ op: "create" | "push" | "update", news, olds? }) and prints
 * { ms, bytesSent?, outs? } as JSON.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
const fromSource = process.argv.includes("--source");
/** @param {string} rel */
const at = (rel) =>
  pathToFileURL(fromSource ? join(REPO, "provider", `${rel}.ts`) : join(REPO, "dist/provider", `${rel}.js`))
    .href;

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const { filerArtifactOps: ops } = await import(at("filer-artifact"));
const { endpointFor } = await import(at("filer/endpoint"));
const { withSession } = await import(at("filer/session"));
const { pushArgs } = await import(at("filer/rsync-args"));
const progress = await import(at("progress"));

/** @type {string[]} */
const lines = [];
progress.setProgressSink((/** @type {string} */ l) => lines.push(l));
const ctx = {
  label: "FilerArtifact bench",
  progress: progress.createProgress("FilerArtifact bench", 1000),
  config: { get: () => undefined },
};
const checked = (await ops.check(req.olds ?? {}, req.news, ctx)).inputs;
const t0 = performance.now();
let result;
if (req.op === "push") {
  // Only the transfer command, the same one create runs first, through our tunnel.
  const sent = await withSession(endpointFor(checked, ctx, "bench"), ctx, "bench", async (s) => {
    const r = await s.rsync(
      pushArgs({
        stageDir: String(req.news.stageDir),
        relPath: String(checked.remotePath),
        folder: false,
        mode: "0644",
        checksum: true,
        fuzzy: false,
        dryRun: false,
        timeoutSeconds: 300,
      }),
    );
    return r.bytesSent;
  });
  result = { ms: performance.now() - t0, bytesSent: sent };
} else if (req.op === "create") {
  const r = await ops.create(checked, ctx);
  result = { ms: performance.now() - t0, outs: r.outs };
} else {
  const r = await ops.update("bench", req.olds ?? {}, checked, ctx);
  result = { ms: performance.now() - t0, outs: r.outs };
}
const sentLine = lines.map((l) => /sent (\d+) bytes for/.exec(l)).find(Boolean);
if (sentLine) result.bytesSent = Number(sentLine[1]);
process.stdout.write(JSON.stringify(result));
