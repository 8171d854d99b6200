/**
 * Runs a Pulumi program through the Automation API on the real CLI.
 *
 * Upstream's Node.js language host cannot be had on our machines, so the
 * program runs in this plain Node process (never inside the test runner, whose
 * module transforms would change what Pulumi serializes) as an inline
 * program: same CLI, engine, backend and dynamic-provider plugin as
 * `pulumi up`. The program module default-exports its program function, like
 * an example's index.ts does for the official CLI.
 *
 * Usage: node runner.ts <request.json>   (see RunRequest)
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type ConfigMap,
  type EngineEvent,
  LocalWorkspace,
  type OutputMap,
  type PulumiFn,
} from "@pulumi/pulumi/automation/index.js";

export type RunOp =
  | "init"
  | "preview"
  | "up"
  | "refresh"
  | "destroy"
  | "export"
  | "import"
  | "cancel"
  | "outputs";

export interface RunRequest {
  op: RunOp;
  workDir: string;
  projectName: string;
  stackName: string;
  /** Absolute path of the module whose default export is the program. */
  programModule: string;
  envVars: Record<string, string>;
  config?: Record<string, { value: string; secret?: boolean }>;
  /** NDJSON file that receives every engine event. */
  eventsFile: string;
  resultFile: string;
  /** For import: the deployment JSON file to import. */
  stateFile?: string;
  expectNoChanges?: boolean;
  refreshFirst?: boolean;
  targets?: string[];
}

export interface RunResult {
  ok: boolean;
  summary?: { kind: string; result: string; resourceChanges?: Record<string, number> };
  changeSummary?: Record<string, number>;
  outputs?: Record<string, { value: unknown; secret: boolean }>;
  error?: string;
}

async function main(): Promise<void> {
  const requestPath = process.argv[2];
  if (!requestPath) throw new Error("usage: runner.ts <request.json>");
  const req = JSON.parse(readFileSync(requestPath, "utf8")) as RunRequest;
  const mod = (await import(pathToFileURL(req.programModule).href)) as { default: PulumiFn };
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: req.stackName, projectName: req.projectName, program: mod.default },
    {
      workDir: req.workDir,
      envVars: req.envVars,
      // A project folder of its own (an example, the demo) keeps its Pulumi.yaml.
      projectSettings: existsSync(join(req.workDir, "Pulumi.yaml"))
        ? undefined
        : { name: req.projectName, runtime: "nodejs", backend: { url: req.envVars.PULUMI_BACKEND_URL } },
    },
  );
  if (req.config) await stack.setAllConfig(req.config as ConfigMap);
  const onEvent = (e: EngineEvent) => appendFileSync(req.eventsFile, `${JSON.stringify(e)}\n`);
  const onOutput = (s: string) => process.stdout.write(s);
  const common = { onEvent, onOutput, color: "never" as const, targets: req.targets };
  let result: RunResult = { ok: true };
  switch (req.op) {
    case "preview": {
      const r = await stack.preview({
        ...common,
        expectNoChanges: req.expectNoChanges,
        refresh: req.refreshFirst,
      });
      result.changeSummary = r.changeSummary;
      break;
    }
    case "up": {
      const r = await stack.up({
        ...common,
        expectNoChanges: req.expectNoChanges,
        refresh: req.refreshFirst,
      });
      result = { ok: true, summary: r.summary, outputs: r.outputs as OutputMap };
      break;
    }
    case "refresh": {
      const r = await stack.refresh({ ...common, expectNoChanges: req.expectNoChanges });
      result = { ok: true, summary: r.summary };
      break;
    }
    case "destroy": {
      const r = await stack.destroy({ ...common });
      result = { ok: true, summary: r.summary };
      break;
    }
    case "export": {
      writeFileSync(
        req.stateFile ?? `${req.resultFile}.state.json`,
        JSON.stringify(await stack.exportStack()),
      );
      break;
    }
    case "import": {
      const state = JSON.parse(readFileSync(req.stateFile ?? "", "utf8"));
      await stack.importStack(state);
      break;
    }
    case "init":
      // createOrSelectStack above made sure the stack exists.
      break;
    case "outputs": {
      result.outputs = (await stack.outputs()) as OutputMap;
      break;
    }
    case "cancel": {
      await stack.cancel();
      break;
    }
  }
  writeFileSync(req.resultFile, JSON.stringify(result));
}

main().catch((err: unknown) => {
  const requestPath = process.argv[2];
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${message}\n`);
  if (requestPath) {
    try {
      const req = JSON.parse(readFileSync(requestPath, "utf8")) as RunRequest;
      writeFileSync(req.resultFile, JSON.stringify({ ok: false, error: message } satisfies RunResult));
    } catch {
      // the request itself was unreadable: the exit code says enough
    }
  }
  process.exit(1);
});
