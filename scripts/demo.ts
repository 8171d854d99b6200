/**
 * The demo: the example pipeline (examples/backtest-pipeline) deployed to the
 * local sandbox with the real Pulumi CLI and a local file backend in
 * .sandbox/state. Run through scripts/demo.sh, which installs what is missing.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KIND_NAMES } from "../provider/index.ts";
import { summarizeEventLog } from "../provider/summary/main.ts";
import { plainText } from "../provider/summary/resource-changes.ts";
import { btdMountCommand, type PipelineStacks, pipelineStacks } from "../test/support/pipeline/stacks.ts";
import { type OpOutcome, REPO_ROOT } from "../test/support/pulumi/harness.ts";
import { DEFAULT_SANDBOX_DIR, startSandbox, stopSandbox } from "../test/support/sandbox/control.ts";
import type { SandboxInfo } from "../test/support/sandbox/info.ts";

const SANDBOX = DEFAULT_SANDBOX_DIR;
const STATE_FILE = join(SANDBOX, "demo.json");

interface DemoState {
  liveSlot: string;
}

async function readDemoState(): Promise<DemoState> {
  if (!existsSync(STATE_FILE)) return { liveSlot: "a" };
  return JSON.parse(await readFile(STATE_FILE, "utf8")) as DemoState;
}

async function writeDemoState(state: DemoState): Promise<void> {
  await writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

function outputValue(r: OpOutcome, name: string): string {
  const v = r.outputs?.[name]?.value;
  return v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v);
}

function report(stack: string, r: OpOutcome): void {
  const changes = r.summary?.resourceChanges ?? {};
  const changed = Object.entries(changes)
    // "discard": the engine dropping its read of another stack's outputs; nothing of ours.
    .filter(([op]) => op !== "same" && op !== "read" && op !== "discard")
    .map(([op, n]) => `${n} ${op}`);
  say(`\n== stack ${stack}: ${changed.length > 0 ? changed.join(", ") : "no changes"}`);
}

function describeSlot(info: SandboxInfo, r: OpOutcome): void {
  say(`   version        meanrev ${outputValue(r, "version")}`);
  say(`   image on filer ${join(info.filer.root, outputValue(r, "imageRemotePath"))}`);
  say(`   mount prefix   ${outputValue(r, "prefix")}`);
  say(`   sha256         ${outputValue(r, "sha256")}`);
  say(`   test job       ${outputValue(r, "testJobUrl")}`);
}

function describeLive(r: OpOutcome): void {
  say(`   live slot      ${outputValue(r, "liveSlot")} (idle: ${outputValue(r, "idleSlot")})`);
  say(`   link           ${outputValue(r, "link")}`);
  say(`   prod job       ${outputValue(r, "prodJobUrl")}`);
}

function howToInspect(info: SandboxInfo, slot: OpOutcome | undefined): void {
  say("\nInspect it:");
  say(`   ls -la ${join(info.filer.root, "envs")} ${join(info.filer.root, "envs", "*")}`);
  say(
    `   curl -su ${info.jenkins.user}:$(node -p 'require("${join(SANDBOX, "sandbox.json")}").jenkins.apiToken') ${info.jenkins.url}job/meanrev/job/prod/job/backtest/config.xml`,
  );
  if (slot) {
    const image = join(info.filer.root, outputValue(slot, "imageRemotePath"));
    // This Node (24), not whatever `node` a fresh shell finds first.
    const mount = btdMountCommand().replace(/^node /, `${process.execPath} `);
    say(
      `   ${mount} --state-dir ${join(SANDBOX, "mounts")} --image ${image} --prefix ${outputValue(slot, "prefix")} -- meanrev-backtest --days 60 --output /tmp/meanrev-results`,
    );
  }
  say(`   cat ${info.filer.commandLog}      # every command line the filer's rrsync received`);
  say("Next: edit examples/backtest-pipeline/environment.yml (meanrev=1.1.0), then ./scripts/demo.sh deploy");
}

/** Why a run failed, in the words of whoever refused: our provider's errors, else the program's. */
function failureOf(r: OpOutcome): string {
  const ours = whyItFailed(r.error ?? "");
  if (/\[BTD_/.test(ours)) return ours;
  const program = r.events
    .flatMap((e) => (e.diagnosticEvent?.severity === "error" ? [e.diagnosticEvent.message] : []))
    .map(plainText)
    .filter((m) => m !== "" && m !== "update failed" && m !== "preview failed");
  return program.length > 0 ? [...new Set(program)].map((m) => `   ${m}`).join("\n") : ours;
}

/**
 * Our errors run from "<Kind> <name> <op>:" to their [BTD_…] code, maybe over
 * several lines: those say why; Pulumi's own log around them does not.
 */
const OUR_ERROR_START = new RegExp(`(${KIND_NAMES.join("|")}) \\S+ [a-z]+: `);

function whyItFailed(error: string): string {
  const lines = error.split("\n");
  const blocks = new Set<string>();
  lines.forEach((line, end) => {
    if (!/\[BTD_[A-Z0-9_]+\]/.test(line)) return;
    let start = end;
    while (start > 0 && !OUR_ERROR_START.test(lines[start] ?? "")) start--;
    blocks.add(
      lines
        .slice(start, end + 1)
        .map((l) => `   ${l.trim()}`)
        .join("\n"),
    );
  });
  return blocks.size > 0 ? [...blocks].join("\n\n") : lines.slice(-15).join("\n");
}

async function up(stacks: PipelineStacks, name: string): Promise<OpOutcome> {
  const r = await stacks.stack(name).up({ allowFailure: true });
  if (!r.ok) {
    const why = failureOf(r);
    const next = /is in service/.test(why)
      ? "\nIn the demo, the idle slot is deployed with: ./scripts/demo.sh deploy"
      : "";
    throw new Error(`pulumi up of stack ${name} failed:\n${why}${next}`);
  }
  report(name, r);
  return r;
}

async function main(): Promise<void> {
  const [command = "up", ...rest] = process.argv.slice(2);
  if (command === "stop" || command === "reset") {
    say((await stopSandbox(SANDBOX)) ? "sandbox stopped" : "no sandbox was running");
    if (command === "reset") {
      // The stacks name this sandbox's ports and keys; a new sandbox gets others, so they go too.
      await rm(SANDBOX, { recursive: true, force: true });
      for (const stack of ["a", "b", "live"])
        await rm(join(REPO_ROOT, `Pulumi.${stack}.yaml`), { force: true });
      say(
        `removed ${SANDBOX} (stacks, local images, mounts) and the stacks' config files: the next ./scripts/demo.sh starts from scratch`,
      );
    } else if (existsSync(join(SANDBOX, "state", ".pulumi", "stacks"))) {
      say(
        "The demo's stacks still point at this sandbox; a restarted sandbox has other ports and keys.\n" +
          "Run ./scripts/demo.sh destroy before stop, or ./scripts/demo.sh reset to start over.",
      );
    }
    return;
  }
  const info = await startSandbox(SANDBOX);
  await mkdir(join(SANDBOX, "state"), { recursive: true });
  const state = await readDemoState();
  const stacks = await pipelineStacks({
    workDir: REPO_ROOT,
    programModule: join(REPO_ROOT, "examples/backtest-pipeline/index.ts"),
    backendUrl: `file://${join(SANDBOX, "state")}`,
    sandbox: info,
    localRoot: join(SANDBOX, "local"),
    liveSlot: state.liveSlot,
    env: { BTD_MOUNT_STATE_DIR: join(SANDBOX, "mounts") },
  });
  // The example's default verify, unless this command is a switch with --verify: a failed
  // switch's verify must not stay in the live stack's config for the next command.
  stacks.setLiveConfig("verifyCommand", "");
  try {
    await runCommand(command, rest, info, state, stacks);
  } finally {
    await stacks.dispose();
  }
}

async function runCommand(
  command: string,
  rest: string[],
  info: SandboxInfo,
  state: DemoState,
  stacks: PipelineStacks,
): Promise<void> {
  // Slot stacks read the live stack; it must exist before the first slot deploy.
  await stacks.live.init();

  switch (command) {
    case "up": {
      const a = await up(stacks, state.liveSlot);
      describeSlot(info, a);
      const live = await up(stacks, "live");
      describeLive(live);
      howToInspect(info, a);
      break;
    }
    case "deploy": {
      const idle = String((await stacks.live.outputs()).idleSlot?.value ?? "b");
      const r = await up(stacks, idle);
      describeSlot(info, r);
      say(
        `\nSlot ${idle} is deployed; its test job (above) is ready to run. Make it live: ./scripts/demo.sh switch ${idle}`,
      );
      break;
    }
    case "switch": {
      const slot = rest[0];
      if (slot !== "a" && slot !== "b") throw new Error("usage: demo.sh switch a|b [--verify COMMAND]");
      const verifyAt = rest.indexOf("--verify");
      const verify = verifyAt >= 0 ? rest[verifyAt + 1] : undefined;
      // Empty means the example's default verify (a short backtest in the mounted image).
      stacks.setLiveConfig("verifyCommand", verify ?? "");
      stacks.setLiveSlot(slot);
      const r = await stacks.live.up({ allowFailure: true });
      if (!r.ok) {
        // The link and production jobs were left as they were; so is the demo's record.
        say(`\nThe switch to ${slot} failed and changed nothing:\n${failureOf(r)}`);
        process.exitCode = 1;
        return;
      }
      await writeDemoState({ liveSlot: slot });
      report("live", r);
      describeLive(r);
      break;
    }
    case "preview": {
      const name = rest[0] ?? "a";
      const r = await stacks.stack(name).preview();
      const md = summarizeEventLog(r.events.map((e) => JSON.stringify(e)).join("\n"));
      const file = join(SANDBOX, `preview-${name}.md`);
      await writeFile(file, md);
      say(md);
      say(`(written to ${file})`);
      break;
    }
    case "destroy": {
      for (const name of ["live", "b", "a"]) {
        const r = await stacks.stack(name).destroy();
        report(name, r);
      }
      await writeDemoState({ liveSlot: "a" });
      break;
    }
    default:
      throw new Error(
        `unknown command "${command}": up, deploy, switch a|b, preview STACK, destroy, stop, reset`,
      );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
