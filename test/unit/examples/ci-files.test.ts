/**
 * The example's CI file and runner image cannot run here (no GitLab, no
 * container engine), so they are held to what can be checked statically:
 * they parse, every command a job calls is installed by the image, the
 * stacks they name exist in the example, and deploys are serialized.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../../support/pulumi/harness.ts";

const EXAMPLE = join(REPO_ROOT, "examples/backtest-pipeline");
const ci = parse(readFileSync(join(EXAMPLE, ".gitlab-ci.yml"), "utf8")) as Record<string, unknown>;
const containerfile = readFileSync(join(EXAMPLE, "Containerfile"), "utf8");
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  bin: Record<string, string>;
};
const examplePackage = JSON.parse(readFileSync(join(EXAMPLE, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

interface Job {
  stage?: string;
  script?: string[];
  before_script?: string[];
  resource_group?: string;
  rules?: { if?: string; when?: string }[];
}

const RESERVED = new Set(["stages", "default", "variables", "cache", "include", "workflow"]);
const jobs = Object.entries(ci).filter(([name]) => !RESERVED.has(name)) as [string, Job][];
const defaults = ci.default as Job & { image?: string };

/** apt packages the image installs. */
const aptPackages = new Set(
  [...containerfile.matchAll(/apt-get install([^&]*)&&/g)]
    .flatMap((m) => (m[1] ?? "").replace(/\\\n/g, " ").split(/\s+/))
    .filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w)),
);

/** What puts each command on the image's PATH. */
function provides(command: string): boolean {
  const byApt: Record<string, string> = {
    curl: "curl",
    git: "git",
    rsync: "rsync",
    mksquashfs: "squashfs-tools",
    unsquashfs: "squashfs-tools",
    squashfuse: "squashfuse",
    fusermount3: "fuse3",
    flock: "util-linux",
  };
  if (command in byApt) return aptPackages.has(byApt[command] as string);
  if (["node", "npm", "npx"].includes(command)) return /^FROM \S*node:2[2-9]/m.test(containerfile);
  if (command === "pulumi")
    return /get\.pulumi\.com/.test(containerfile) && /ln -s \S+\/pulumi /.test(containerfile);
  if (command === "mamba") return /ln -s \/opt\/conda\/bin\/mamba /.test(containerfile);
  return false;
}

const SHELL_BUILTINS = new Set(["export", "echo", "cd", "test", "set", "true", "exit"]);

/** The commands a script line runs, including those inside $(…). */
function commandsOf(line: string): string[] {
  const found: string[] = [];
  for (const m of line.matchAll(/\$\(([^)]*)\)/g)) found.push(...commandsOf(m[1] ?? ""));
  const outer = line.replace(/\$\([^)]*\)/g, "X");
  for (const part of outer.split(/&&|\|\||;|\|/)) {
    const words = part
      .trim()
      .split(/\s+/)
      .filter((w) => !/^[A-Z_]+=/.test(w));
    if (words[0]) found.push(words[0]);
  }
  return found;
}

function scriptsOf(job: Job): string[] {
  return [...(defaults.before_script ?? []), ...(job.before_script ?? []), ...(job.script ?? [])];
}

describe("examples/backtest-pipeline/.gitlab-ci.yml", () => {
  it("has the three jobs of the flow, in declared stages", () => {
    expect(jobs.map(([n]) => n).sort()).toEqual(["deploy-idle-slot", "deploy-live", "preview"]);
    for (const [, job] of jobs) expect(ci.stages).toContain(job.stage);
  });

  it("runs on the image the Containerfile defines", () => {
    expect(defaults.image).toContain("deploy-runner");
  });

  it("calls only commands the runner image installs", () => {
    const missing: string[] = [];
    for (const [name, job] of jobs) {
      for (const line of scriptsOf(job)) {
        for (const cmd of commandsOf(line)) {
          if (!SHELL_BUILTINS.has(cmd) && !provides(cmd)) missing.push(`${name}: ${cmd}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("the image also has what the resources themselves run", () => {
    for (const cmd of ["mksquashfs", "squashfuse", "fusermount3", "rsync", "flock", "mamba", "node"]) {
      expect(provides(cmd), cmd).toBe(true);
    }
  });

  it("npx commands are bins of backtest-deploy, which the example depends on", () => {
    const npx = jobs
      .flatMap(([, j]) => scriptsOf(j))
      .flatMap((l) => [...l.matchAll(/npx (\S+)/g)].map((m) => m[1]));
    expect(npx.length).toBeGreaterThan(0);
    for (const bin of npx) expect(Object.keys(rootPackage.bin)).toContain(bin);
    expect(Object.keys(examplePackage.dependencies)).toContain(rootPackage.name);
  });

  it("names only stacks the example has", () => {
    const named = jobs
      .flatMap(([, j]) => scriptsOf(j))
      .flatMap((l) => [...l.matchAll(/--stack\s+("?\$?[\w-]+"?)|stack select --create (\w+)/g)])
      .map((m) => (m[1] ?? m[2] ?? "").replaceAll('"', ""));
    expect(named.length).toBeGreaterThan(0);
    for (const stack of named) {
      if (stack === "$IDLE") continue;
      expect(existsSync(join(EXAMPLE, `Pulumi.${stack}.yaml`)), stack).toBe(true);
    }
    // $IDLE comes from live's idleSlot output, which names a slot stack.
    expect(readFileSync(join(EXAMPLE, "index.ts"), "utf8")).toMatch(/idleSlot:/);
  });

  it("serializes deploys per stack and gates live behind a manual approval", () => {
    for (const [name, job] of jobs) {
      if (scriptsOf(job).some((l) => l.includes("pulumi up"))) expect(job.resource_group, name).toBeTruthy();
    }
    const live = jobs.find(([n]) => n === "deploy-live")?.[1];
    expect(live?.rules?.some((r) => r.when === "manual")).toBe(true);
    expect(scriptsOf(live ?? {}).join("\n")).toContain("--stack live");
  });

  it("keeps state in the backend named by PULUMI_BACKEND_URL and posts the preview summary", () => {
    const all = jobs.flatMap(([, j]) => scriptsOf(j)).join("\n");
    expect(all).toContain('pulumi login "$PULUMI_BACKEND_URL"');
    const preview = jobs.find(([n]) => n === "preview")?.[1];
    const text = scriptsOf(preview ?? {}).join("\n");
    expect(text).toContain("--event-log");
    expect(text).toContain("btd-preview-summary");
    expect(text).toContain("merge_requests/$CI_MERGE_REQUEST_IID/notes");
  });
});
