/**
 * JenkinsJob benchmark against the Jenkins stand-in with 20 ms of latency per
 * request, figures side by side in one run:
 *
 *   1. 500 changed jobs deployed through the provider's own check → diff →
 *      update, as many at once as `pulumi up` runs by default (4 per CPU);
 *   2. a curl loop: one POST config.xml per job, one job at a time, each on a
 *      fresh connection (node:http with `agent: false`: no keep-alive);
 *   3. a careful curl loop: GET config.xml to learn whether the job exists,
 *      then POST config.xml (or createItem), fresh connections again;
 *   4. a preview with nothing changed: check + diff of every job, which must
 *      make zero HTTP requests;
 *   5. with --with-pulumi, the same change as a whole `pulumi up` (slow; for
 *      the record).
 *
 * Connections are counted on the stand-in's side (every accepted socket, and
 * the most open at once), so the figure holds whatever the client does.
 *
 * Usage: node scripts/bench/jenkins.ts [--jobs 500] [--parallel N] [--latency 20] [--with-pulumi]
 * Not a test: timings depend on the machine; it exits non-zero only when a
 * deploy fails or the no-change preview makes a request.
 */
import { subscribe } from "node:diagnostics_channel";
import { request as httpRequest } from "node:http";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { OpContext, Props } from "../../provider/context.ts";
import { closeJenkinsPools, JENKINS_CONNECTIONS } from "../../provider/jenkins/client.ts";
import { jobUrlPath } from "../../provider/jenkins/names.ts";
import { jenkinsJobOps as ops } from "../../provider/jenkins-job.ts";
import { createProgress, setProgressSink } from "../../provider/progress.ts";
import { type JenkinsStandIn, startJenkins } from "../../test/support/jenkins/index.ts";

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

// ------------------------------------------------------------ stand-in side counters

/** Sockets accepted and requests in flight on the stand-in, whoever the client is. */
class ServerCounters {
  accepted = 0;
  openSockets = 0;
  maxOpenSockets = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor() {
    subscribe("net.server.socket", (message) => {
      const { socket } = message as { socket: import("node:net").Socket };
      this.accepted++;
      this.openSockets++;
      this.maxOpenSockets = Math.max(this.maxOpenSockets, this.openSockets);
      socket.once("close", () => {
        this.openSockets--;
      });
    });
    subscribe("http.server.request.start", () => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    });
    subscribe("http.server.response.finish", () => {
      this.inFlight--;
    });
  }

  /** Starts a phase: maxima restart from what is open now (idle keep-alive sockets stay counted). */
  reset(): void {
    this.accepted = 0;
    this.maxOpenSockets = this.openSockets;
    this.maxInFlight = this.inFlight;
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

function argsOf(jenkins: JenkinsStandIn, i: number, image: string): Props {
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
  jenkins: JenkinsStandIn,
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

// ------------------------------------------------------------ phases

interface Figures {
  seconds: number;
  requests: number;
  connections: number;
  maxOpenConnections: number;
  maxInFlight: number;
}

async function phase(
  jenkins: JenkinsStandIn,
  counters: ServerCounters,
  fn: () => Promise<void>,
): Promise<Figures> {
  jenkins.clearRequestLog();
  counters.reset();
  const seconds = await timed(fn);
  return {
    seconds,
    requests: jenkins.requests().length,
    connections: counters.accepted,
    maxOpenConnections: counters.maxOpenSockets,
    maxInFlight: counters.maxInFlight,
  };
}

async function main(): Promise<void> {
  setProgressSink(() => {});
  const counters = new ServerCounters();
  const jenkins = await startJenkins();
  const outs: Props[] = new Array(JOBS);
  const ids: string[] = new Array(JOBS);
  try {
    console.log(
      `JenkinsJob benchmark: ${JOBS} jobs, stand-in latency ${LATENCY_MS} ms per request, provider parallelism ${PARALLEL} (pulumi up's default here), pool of ${JENKINS_CONNECTIONS} connections`,
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
    jenkins.faults.setLatency(LATENCY_MS);

    // 1. The provider: every job changed (a new env image), check → diff → update as Pulumi calls them.
    const provider = await phase(jenkins, counters, () =>
      inParallel(JOBS, PARALLEL, async (i) => {
        const name = jobName(i);
        const news = await checked(argsOf(jenkins, i, "/filer/envs/b.sqsh"), name);
        const d = await ops.diff(ids[i] as string, outs[i] as Props, news, ctx(name));
        if (!d.changes || d.replaces?.length)
          throw new Error(`${name}: expected an in-place update, got ${JSON.stringify(d)}`);
        outs[i] = (await ops.update(ids[i] as string, outs[i] as Props, news, ctx(name))).outs;
      }),
    );

    // 4. Preview with nothing changed: check + diff only, and not one request.
    const preview = await phase(jenkins, counters, () =>
      inParallel(JOBS, PARALLEL, async (i) => {
        const name = jobName(i);
        const news = await checked(argsOf(jenkins, i, "/filer/envs/b.sqsh"), name);
        const d = await ops.diff(ids[i] as string, outs[i] as Props, news, ctx(name));
        if (d.changes) throw new Error(`${name}: the unchanged job shows a change: ${JSON.stringify(d)}`);
      }),
    );

    // Idle keep-alive sockets of the pool would count as open during the baselines.
    await closeJenkinsPools();
    while (counters.openSockets > 0) await new Promise((r) => setTimeout(r, 5));

    // Baselines post the same kind of change (a third image), rendered beforehand so only HTTP is timed.
    const configs: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      configs.push((await checked(argsOf(jenkins, i, "/filer/envs/c.sqsh"), jobName(i))).config as string);
    }
    const jobPath = (i: number) => jobUrlPath([FOLDER, jobName(i)]);

    // 2. curl loop: one POST per job, a fresh connection each.
    const curl = await phase(jenkins, counters, async () => {
      for (let i = 0; i < JOBS; i++) {
        expectStatus(
          await curlLike(jenkins, "POST", `${jobPath(i)}config.xml`, configs[i]),
          [200],
          jobName(i),
        );
      }
    });

    // 3. careful curl loop: does it exist? then update (or create), a fresh connection per request.
    const careful = await phase(jenkins, counters, async () => {
      for (let i = 0; i < JOBS; i++) {
        const exists = await curlLike(jenkins, "GET", `${jobPath(i)}config.xml`);
        expectStatus(exists, [200, 404], jobName(i));
        const status =
          exists === 200
            ? await curlLike(jenkins, "POST", `${jobPath(i)}config.xml`, configs[i])
            : await curlLike(
                jenkins,
                "POST",
                `${jobUrlPath([FOLDER])}createItem?name=${encodeURIComponent(jobName(i))}`,
                configs[i],
              );
        expectStatus(status, [200], jobName(i));
      }
    });

    let pulumiUp: Figures | undefined;
    if (flags["with-pulumi"]) pulumiUp = await benchPulumiUp(jenkins, counters);

    const rows: Array<[string, Figures]> = [
      [`provider ops (check+diff+update, ${PARALLEL} at once)`, provider],
      ["curl loop (POST config.xml, new connection each)", curl],
      ["careful curl loop (GET, then POST or createItem)", careful],
      ["preview, nothing changed (check+diff)", preview],
      ...(pulumiUp ? [["whole `pulumi up` of the change", pulumiUp] as [string, Figures]] : []),
    ];
    console.log("");
    console.log(
      `${"".padEnd(52)}${"seconds".padStart(9)}${"requests".padStart(10)}${"new conns".padStart(11)}${"max open".padStart(10)}${"max in flight".padStart(15)}`,
    );
    for (const [label, f] of rows) {
      console.log(
        `${label.padEnd(52)}${f.seconds.toFixed(2).padStart(9)}${String(f.requests).padStart(10)}${String(f.connections).padStart(11)}${String(f.maxOpenConnections).padStart(10)}${String(f.maxInFlight).padStart(15)}`,
      );
    }
    console.log("");
    const ratio = curl.seconds / provider.seconds;
    console.log(
      `provider vs curl loop:         ${ratio.toFixed(2)}x faster (target >= 5x) with at most ${provider.maxOpenConnections} concurrent connections (target <= 8)`,
    );
    console.log(`provider vs careful curl loop: ${(careful.seconds / provider.seconds).toFixed(2)}x faster`);
    console.log(
      `lower bound of the provider at this latency: ${JOBS} jobs x 2 requests x ${LATENCY_MS} ms / ${Math.min(PARALLEL, JENKINS_CONNECTIONS)} at once = ${((JOBS * 2 * LATENCY_MS) / Math.min(PARALLEL, JENKINS_CONNECTIONS) / 1000).toFixed(2)} s`,
    );
    console.log(`preview with nothing changed: ${preview.requests} HTTP requests (must be 0)`);
    if (pulumiUp)
      console.log(`whole pulumi up vs curl loop: ${(curl.seconds / pulumiUp.seconds).toFixed(2)}x`);
    if (preview.requests !== 0) process.exitCode = 1;
  } finally {
    await closeJenkinsPools();
    await jenkins.stop();
  }
}

/** The same change as a whole `pulumi up` through the real CLI (the program: test/e2e/programs/jenkins-bench.ts). */
async function benchPulumiUp(jenkins: JenkinsStandIn, counters: ServerCounters): Promise<Figures> {
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
  try {
    jenkins.faults.setLatency(0);
    const t0 = performance.now();
    await project.up({ env: { JJ_IMAGE: "/filer/envs/a.sqsh" } });
    console.log(
      `(pulumi up creating ${JOBS} jobs without latency, not compared: ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    jenkins.faults.setLatency(LATENCY_MS);
    let outcome: Awaited<ReturnType<typeof project.up>> | undefined;
    const figures = await phase(jenkins, counters, async () => {
      outcome = await project.up({ env: { JJ_IMAGE: "/filer/envs/b.sqsh" } });
    });
    const updated = Object.values(outcome?.steps ?? {}).filter((op) => op === "update").length;
    if (updated !== JOBS) throw new Error(`pulumi up updated ${updated} jobs, expected ${JOBS}`);
    jenkins.faults.setLatency(0);
    await project.destroy({ env: { JJ_IMAGE: "/filer/envs/b.sqsh" } });
    return figures;
  } finally {
    await project.dispose();
  }
}

await main();
