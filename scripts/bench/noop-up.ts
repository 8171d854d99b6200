/**
 * Benchmark (issue 8): a no-op `pulumi up` of the example's slot stack
 * against a no-op `up` of a stack holding the same number of trivial dynamic
 * resources (a provider that does nothing), on the same file backend, side by
 * side, interleaved, median of N. Target: at most 1.3x.
 *
 * Usage: node scripts/bench/noop-up.ts [--runs 5]
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureChannel, installerPath } from "../../test/support/conda/index.ts";
import { startFiler } from "../../test/support/filer/index.ts";
import { startJenkins } from "../../test/support/jenkins/index.ts";
import { copyExample, type PipelineStacks, pipelineStacks } from "../../test/support/pipeline/stacks.ts";
import { createProject, type PulumiProject, REPO_ROOT } from "../../test/support/pulumi/harness.ts";
import { sandboxInfoOf } from "../../test/support/sandbox/info.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const channel = await ensureChannel();
const [filer, jenkins] = await Promise.all([startFiler(), startJenkins()]);
const root = await mkdtemp(join(tmpdir(), "btd-bench-noop-"));
let stacks: PipelineStacks | undefined;
let trivial: PulumiProject | undefined;
try {
  const project = join(root, "deploy");
  await copyExample(project);
  const backend = join(root, "backend");
  await mkdir(backend);
  stacks = await pipelineStacks({
    workDir: project,
    programModule: join(project, "index.ts"),
    backendUrl: `file://${backend}`,
    sandbox: sandboxInfoOf(filer, jenkins, { channel, installer: installerPath }),
    localRoot: join(root, "local"),
    env: { BTD_MOUNT_STATE_DIR: join(root, "mounts") },
  });
  await stacks.live.init();
  const first = await stacks.a.up();
  const dynamic = Object.keys(first.steps).length;
  trivial = await createProject({
    projectName: "trivial",
    programModule: join(REPO_ROOT, "test/e2e/programs/trivial.ts"),
    backendUrl: `file://${backend}`,
    env: { BTD_TRIVIAL_COUNT: String(dynamic) },
  });
  await trivial.up();

  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = Date.now();
    await stacks.a.up({ expectNoChanges: true });
    ours.push(Date.now() - t);
    t = Date.now();
    await trivial.up({ expectNoChanges: true });
    base.push(Date.now() - t);
  }
  const a = median(ours);
  const b = median(base);
  console.log(`no-op up, median of ${runs} (${dynamic} dynamic resources each, same file backend)`);
  console.log(`  example slot stack a           ${(a / 1000).toFixed(2)} s   runs: ${ours.join(", ")} ms`);
  console.log(
    `  ${dynamic} trivial dynamic resources  ${(b / 1000).toFixed(2)} s   runs: ${base.join(", ")} ms`,
  );
  console.log(`  ratio ${(a / b).toFixed(2)}x, target <= 1.3x ${a / b <= 1.3 ? "OK" : "MISSED"}`);
  await trivial.destroy();
  await stacks.a.destroy();
} finally {
  await Promise.allSettled([filer.stop(), jenkins.stop(), stacks?.dispose(), trivial?.dispose()]);
  await rm(root, { recursive: true, force: true });
}
