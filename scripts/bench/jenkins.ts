/**
 * JenkinsJob benchmark against the Jenkins stand-in with 20 ms of latency per
 * request, figures side by side in one run:
 *
 *   1. 500 changed jobs deployed through the provider's own check → diff →
 *      update, as many at once as `pulumi up` runs by default (4 per CPU);
 *   2. the baseline of the issue, a curl loop: one `curl` per job posting its
 *      config.xml, one job at a time, each on a new connection;
 *   3. a careful curl loop: curl GET config.xml to learn whether the job
 *      exists, then curl POST config.xml (or createItem);
 *   4. the curl loop without curl's process start, for the record: one POST
 *      per job from this process on a new connection (node:http, no agent);
 *   5. a preview with nothing changed: check + diff of every job, which must
 *      make zero HTTP requests;
 *   6. with --with-pulumi, the same change as a whole `pulumi up` (slow; for
 *      the record), by default and with PULUMI_SKIP_CHECKPOINTS=true.
 *
 * The stand-in runs in a process of its own (scripts/bench/jenkins-standin.ts),
 * as Jenkins is another server: its work must not be billed to the client.
 * Connections are counted on the stand-in's side (every accepted socket, and
 * the most open at once), so the figure holds whatever the client does.
 *
 * Usage: node scripts/bench/jenkins.ts [--jobs 500] [--parallel N] [--latency 20] [--with-pulumi]
 * Not a test: timings depend on the machine; it exits non-zero only when a
 * deploy fails or the no-change preview makes a request.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { execa } from "execa";
import type { OpContext, Props } from "../../provider/context.ts";
import { forgetCanonicalForms } from "../../provider/jenkins/canonical-xml.ts";
import { closeJenkinsPools, JENKINS_CONNECTIONS } from "../../provider/jenkins/client.ts";
import { jobUrlPath } from "../../provider/jenkins/names.ts";
import { jenkinsJobOps as ops } from "../../provider/jenkins-job.ts";
import { createProgress, setProgressSink } from "../../provider/progress.ts";
import type { StandInCommand, StandInFigures, StandInMessage } from "./jenkins-standin.ts";

const { values: flags } = parseArgs({
  options: {
    jobs: { type: "string", default: "500" },
    // `pulumi up --parallel` defaults to 4 per CPU.
    parallel: { type: "string", default: String(4 * availableParallelism()) },
    latency: { type: "string", default: "20" },
    "with-pulumi": { type: "boolean", default: false },
  },
});
const JOBS = Number(flags.jobs);
const PARALLEL = Number(flags.parallel);
const LATENCY_MS = Number(flags.latency);
const FOLDER = "bench";

const JENKINSFILE =
  "pipeline {\n  agent any\n  stages { stage('run') { steps { sh 'run \"$ENV_IMAGE\"' } } }\n}\n";

// ------------------------------------------------------------ the stand-in, in its own process

/** The stand-in driven over IPC; its figures are counted on the server side, whoever the client is. */
class RemoteStandIn {
  private waiting: Array<(m: StandInMessage) => void> = [];

  private readonly child: ChildProcess;
  readonly url: string;
  readonly admin: { name: string; apiToken: string };

  private constructor(child: ChildProcess, url: string, admin: { name: string; apiToken: string }) {
    this.child = child;
    this.url = url;
    this.admin = admin;
    child.on("message", (m) => this.waiting.shift()?.(m as StandInMessage));
  }

  static async start(): Promise<RemoteStandIn> {
    const child = fork(fileURLToPath(new URL("./jenkins-standin.ts", import.meta.url)), [], {
      execArgv: ["--no-warnings"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ready = await new Promise<StandInMessage>((resolveReady, reject) => {
      child.once("message", (m) => resolveReady(m as StandInMessage));
      child.once("exit", (code) => reject(new Error(`the Jenkins stand-in exited with ${code}`)));
    });
    if (!("ready" in ready))
      throw new Error(`unexpected message from the stand-in: ${JSON.stringify(ready)}`);
    return new RemoteStandIn(child, ready.ready.url, ready.ready.admin);
  }

  private ask(command: StandInCommand): Promise<StandInMessage> {
    return new Promise((resolveAnswer) => {
      this.waiting.push(resolveAnswer);
      this.child.send(command);
    });
  }

  async setLatency(ms: number): Promise<void> {
    await this.ask({ op: "latency", ms });
  }

  async reset(): Promise<void> {
    await this.ask({ op: "reset" });
  }

  async figures(): Promise<StandInFigures> {
    const m = await this.ask({ op: "figures" });
    if (!("figures" in m)) throw new Error(`unexpected message from the stand-in: ${JSON.stringify(m)}`);
    return m.figures;
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.send({ op: "stop" } satisfies StandInCommand);
    await exited;
  }
}

// ------------------------------------------------------------ helpers

function ctx(name: string): OpContext {
  return {
    label: `JenkinsJob ${name}`,
    progress: createProgress(`JenkinsJob ${name}`, 0),
    config: { get: () => undefined },
  };
}

function jobName(i: number): string {
  return `job-${String(i).padStart(4, "0")}`;
}

function argsOf(jenkins: RemoteStandIn, i: number, image: string): Props {
  return {
    btdName: jobName(i),
    url: jenkins.url,
    username: jenkins.admin.name,
    apiToken: jenkins.admin.apiToken,
    name: `${FOLDER}/${jobName(i)}`,
    jenkinsfile: { text: JENKINSFILE },
    vars: { image },
    parameters: [{ name: "ENV_IMAGE", default: image, description: "env image" }],
    createFolders: true,
    pulumiProject: "bench",
    pulumiStack: "bench",
  };
}

async function inParallel(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function checked(a: Props, name: string): Promise<Props> {
  const r = await ops.check({}, a, ctx(name));
  if (r.failures?.length) throw new Error(`check of ${name} failed: ${JSON.stringify(r.failures)}`);
  return r.inputs as Props;
}

/** One request on a connection of its own, closed afterwards: what each curl invocation does. */
function curlLike(
  jenkins: RemoteStandIn,
  method: "GET" | "POST",
  path: string,
  body?: string,
): Promise<number> {
  const auth = Buffer.from(`${jenkins.admin.name}:${jenkins.admin.apiToken}`).toString("base64");
  const data = body === undefined ? undefined : Buffer.from(body, "utf8");
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${jenkins.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          authorization: `Basic ${auth}`,
          connection: "close",
          ...(data
            ? { "content-type": "application/xml; charset=utf-8", "content-length": data.length }
            : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function expectStatus(status: number, ok: number[], what: string): void {
  if (!ok.includes(status)) throw new Error(`${what} answered ${status}`);
}

/**
 * The curl loops, as a team would write them in a shell script: one curl per
 * request, its status checked. The job list is a TSV of url path, folder path,
 * job name and config file.
 */
const CURL = `curl -sS -o /dev/null -w '%{http_code}' -u "$AUTH"`;
const POST = `-H 'Content-Type: application/xml; charset=utf-8' --data-binary "@$file"`;
const CURL_LOOP = `set -eu
while IFS=$'\t' read -r path folder name file; do
  code=$(${CURL} ${POST} "$BASE\${path}config.xml")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
done < "$1"
`;
const CAREFUL_CURL_LOOP = `set -eu
while IFS=$'\t' read -r path folder name file; do
  code=$(${CURL} "$BASE\${path}config.xml")
  case "$code" in
    200) target="$BASE\${path}config.xml" ;;
    404) target="$BASE\${folder}createItem?name=$name" ;;
    *) echo "$path answered $code" >&2; exit 1 ;;
  esac
  code=$(${CURL} ${POST} "$target")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
done < "$1"
`;

async function shellLoop(jenkins: RemoteStandIn, script: string, jobList: string): Promise<void> {
  await execa("bash", ["-c", script, "curl-loop", jobList], {
    env: { BASE: jenkins.url, AUTH: `${jenkins.admin.name}:${jenkins.admin.apiToken}` },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

// ------------------------------------------------------------ phases

interface Figures {
  seconds: number;
  /** CPU time of this process during the phase; undefined when the client was another process (curl). */
  cpuSeconds: number | undefined;
  requests: number;
  connections: number;
  maxOpenConnections: number;
  maxInFlight: number;
}

async function phase(
  jenkins: RemoteStandIn,
  fn: () => Promise<void>,
  client: "this process" | "child processes" = "this process",
): Promise<Figures> {
  await jenkins.reset();
  const cpu0 = process.cpuUsage();
  const seconds = await timed(fn);
  const cpu = process.cpuUsage(cpu0);
  const f = await jenkins.figures();
  return {
    seconds,
    cpuSeconds: client === "this process" ? (cpu.user + cpu.system) / 1e6 : undefined,
    requests: f.requests,
    connections: f.accepted,
    maxOpenConnections: f.maxOpenSockets,
    maxInFlight: f.maxInFlight,
  };
}

async function main(): Promise<void> {
  setProgressSink(() => {});
  const jenkins = await RemoteStandIn.start();
  const scratch = await mkdtemp(join(tmpdir(), "btd-bench-jenkins-"));
  const outs: Props[] = new Array(JOBS);
  const ids: string[] = new Array(JOBS);
  try {
    console.log(
      `JenkinsJob benchmark: ${JOBS} jobs, stand-in (its own process) with ${LATENCY_MS} ms latency per request, provider parallelism ${PARALLEL} (pulumi up's default here), pool of ${JENKINS_CONNECTIONS} connections`,
    );

    // Seed: the jobs exist, deployed by the provider (not timed, no latency).
    await inParallel(JOBS, PARALLEL, async (i) => {
      const r = await ops.create(
        await checked(argsOf(jenkins, i, "/filer/envs/a.sqsh"), jobName(i)),
        ctx(jobName(i)),
      );
      ids[i] = r.id;
      outs[i] = r.outs;
    });
    await jenkins.setLatency(LATENCY_MS);
    // A deploy's provider process starts without the canonical forms the seed left in memory.
    forgetCanonicalForms();

    // 1. The provider: every job changed (a new env image), check → diff → update as Pulumi calls them.
    const provider = await phase(jenkins, () =>
      inParallel(JOBS, PARALLEL, async (i) => {
        const name = jobName(i);
        const news = await checked(argsOf(jenkins, i, "/filer/envs/b.sqsh"), name);
        const d = await ops.diff(ids[i] as string, outs[i] as Props, news, ctx(name));
        if (!d.changes || d.replaces?.length)
          throw new Error(`${name}: expected an in-place update, got ${JSON.stringify(d)}`);
        outs[i] = (await ops.update(ids[i] as string, outs[i] as Props, news, ctx(name))).outs;
      }),
    );

    // Preview with nothing changed: check + diff only, and not one request.
    const preview = await phase(jenkins, () =>
      inParallel(JOBS, PARALLEL, async (i) => {
        const name = jobName(i);
        const news = await checked(argsOf(jenkins, i, "/filer/envs/b.sqsh"), name);
        const d = await ops.diff(ids[i] as string, outs[i] as Props, news, ctx(name));
        if (d.changes) throw new Error(`${name}: the unchanged job shows a change: ${JSON.stringify(d)}`);
      }),
    );

    // Idle keep-alive sockets of the pool would count as open during the baselines.
    await closeJenkinsPools();
    while ((await jenkins.figures()).openSockets > 0) await new Promise((r) => setTimeout(r, 5));

    // Baselines post the same kind of change (a third image), rendered beforehand into files so only HTTP is timed.
    const configs: string[] = [];
    const listed: string[] = [];
    const jobPath = (i: number) => jobUrlPath([FOLDER, jobName(i)]);
    for (let i = 0; i < JOBS; i++) {
      const config = (await checked(argsOf(jenkins, i, "/filer/envs/c.sqsh"), jobName(i))).config as string;
      const file = join(scratch, `${jobName(i)}.xml`);
      await writeFile(file, config);
      configs.push(config);
      listed.push([jobPath(i), jobUrlPath([FOLDER]), jobName(i), file].join("\t"));
    }
    const jobList = join(scratch, "jobs.tsv");
    await writeFile(jobList, `${listed.join("\n")}\n`);

    // 2. The curl loop of the issue: one curl per job posting its config.xml, a new connection each.
    const curlLoop = await phase(jenkins, () => shellLoop(jenkins, CURL_LOOP, jobList), "child processes");

    // 3. A careful curl loop: does the job exist? then update it (or create it).
    const careful = await phase(
      jenkins,
      () => shellLoop(jenkins, CAREFUL_CURL_LOOP, jobList),
      "child processes",
    );

    // 4. The curl loop without curl's process start: one request per connection from this process.
    const bare = await phase(jenkins, async () => {
      for (let i = 0; i < JOBS; i++)
        expectStatus(
          await curlLike(jenkins, "POST", `${jobPath(i)}config.xml`, configs[i]),
          [200],
          jobName(i),
        );
    });

    const pulumiUp = flags["with-pulumi"] ? await benchPulumiUp(jenkins) : undefined;

    const rows: Array<[string, Figures]> = [
      [`provider ops (check+diff+update, ${PARALLEL} at once)`, provider],
      ["curl loop (one curl per job: POST config.xml)", curlLoop],
      ["careful curl loop (curl GET, then curl POST)", careful],
      ["in-process loop (POST, new connection each)", bare],
      ["preview, nothing changed (check+diff)", preview],
      ...(pulumiUp
        ? ([
            ["whole `pulumi up` of the change", pulumiUp.checkpointed],
            ["  the same, PULUMI_SKIP_CHECKPOINTS=true", pulumiUp.unchecked],
          ] as Array<[string, Figures]>)
        : []),
    ];
    console.log("");
    console.log(
      `${"".padEnd(52)}${"seconds".padStart(9)}${"node cpu".padStart(12)}${"requests".padStart(10)}${"new conns".padStart(11)}${"max open".padStart(10)}${"max in flight".padStart(15)}`,
    );
    for (const [label, f] of rows) {
      console.log(
        `${label.padEnd(52)}${f.seconds.toFixed(2).padStart(9)}${(f.cpuSeconds?.toFixed(2) ?? "-").padStart(12)}${String(f.requests).padStart(10)}${String(f.connections).padStart(11)}${String(f.maxOpenConnections).padStart(10)}${String(f.maxInFlight).padStart(15)}`,
      );
    }
    console.log("");
    console.log(
      `provider vs curl loop:         ${(curlLoop.seconds / provider.seconds).toFixed(2)}x faster, target >= 5x ${curlLoop.seconds / provider.seconds >= 5 ? "OK" : "MISSED"}; at most ${provider.maxOpenConnections} concurrent connections, target <= 8 ${provider.maxOpenConnections <= 8 ? "OK" : "MISSED"}`,
    );
    console.log(`provider vs careful curl loop: ${(careful.seconds / provider.seconds).toFixed(2)}x faster`);
    console.log(
      `provider vs in-process loop:   ${(bare.seconds / provider.seconds).toFixed(2)}x faster (no process start per request; for the record)`,
    );
    console.log(
      `lower bound of the provider at this latency: ${JOBS} jobs x 2 requests (write, then read back) x ${LATENCY_MS} ms / ${Math.min(PARALLEL, JENKINS_CONNECTIONS)} at once = ${((JOBS * 2 * LATENCY_MS) / Math.min(PARALLEL, JENKINS_CONNECTIONS) / 1000).toFixed(2)} s`,
    );
    console.log(
      `preview with nothing changed: ${preview.requests} HTTP requests, must be 0 ${preview.requests === 0 ? "OK" : "MISSED"}`,
    );
    if (pulumiUp) {
      console.log(
        `whole pulumi up vs curl loop: ${(curlLoop.seconds / pulumiUp.checkpointed.seconds).toFixed(2)}x; with PULUMI_SKIP_CHECKPOINTS=true ${(curlLoop.seconds / pulumiUp.unchecked.seconds).toFixed(2)}x (for the record)`,
      );
      console.log(
        `  (the engine saves the whole state, ${(pulumiUp.stateBytes / 1e6).toFixed(1)} MB here, after every step, one save at a time)`,
      );
    }
    if (preview.requests !== 0) process.exitCode = 1;
  } finally {
    await closeJenkinsPools();
    await jenkins.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The same change as a whole `pulumi up` through the real CLI (the program:
 * test/e2e/programs/jenkins-bench.ts), once as Pulumi runs by default and
 * once with PULUMI_SKIP_CHECKPOINTS=true, which shows what the engine's
 * per-step state saves cost at this many resources.
 */
async function benchPulumiUp(
  jenkins: RemoteStandIn,
): Promise<{ checkpointed: Figures; unchecked: Figures; stateBytes: number }> {
  const { createProject, REPO_ROOT } = await import("../../test/support/pulumi/harness.ts");
  const project = await createProject({
    projectName: "jj-bench",
    programModule: join(REPO_ROOT, "test/e2e/programs/jenkins-bench.ts"),
    env: {
      JJ_URL: jenkins.url,
      JJ_TOKEN: jenkins.admin.apiToken,
      JJ_COUNT: String(JOBS),
      JJ_FOLDER: "bench-pulumi",
    },
  });
  const change = async (image: string, env: Record<string, string> = {}): Promise<Figures> => {
    let outcome: Awaited<ReturnType<typeof project.up>> | undefined;
    const figures = await phase(jenkins, async () => {
      outcome = await project.up({ env: { JJ_IMAGE: image, ...env } });
    });
    const updated = Object.values(outcome?.steps ?? {}).filter((op) => op === "update").length;
    if (updated !== JOBS) throw new Error(`pulumi up updated ${updated} jobs, expected ${JOBS}`);
    return figures;
  };
  try {
    await jenkins.setLatency(0);
    const t0 = performance.now();
    await project.up({ env: { JJ_IMAGE: "/filer/envs/a.sqsh" } });
    console.log(
      `(pulumi up creating ${JOBS} jobs without latency, not compared: ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    await jenkins.setLatency(LATENCY_MS);
    const checkpointed = await change("/filer/envs/b.sqsh");
    const unchecked = await change("/filer/envs/a.sqsh", { PULUMI_SKIP_CHECKPOINTS: "true" });
    const stateBytes = Buffer.byteLength(await project.stateFileText());
    await jenkins.setLatency(0);
    await project.destroy({ env: { JJ_IMAGE: "/filer/envs/a.sqsh" } });
    return { checkpointed, unchecked, stateBytes };
  } finally {
    await project.dispose();
  }
}

await main();
