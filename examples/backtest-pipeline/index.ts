// The meanrev backtest pipeline, deployed with backtest-deploy.
//
// Three stacks of one project:
//   a, b  — slots: each owns a conda env squashed into an image, that image on
//           the filer (envs/<slot>/, so slots never delete each other's files)
//           and the slot's test job, which runs the backtest in that env and
//           checks its results without publishing them.
//   live  — reads the slot in service (config liveSlot) through a stack
//           reference and owns the production job and the `envs/current`
//           link for consumers outside Jenkins. Switching or rolling back is
//           one config change of live; the link flips only after its verify
//           command passes, and the production job follows the link.
//
// Deploys go to the idle slot (live's `idleSlot` output). A change of the env
// of the slot in service is refused, so an image production jobs have mounted
// is never replaced.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import {
  CondaSquashEnv,
  FilerArtifact,
  FilerLink,
  JenkinsJob,
  type JenkinsJobParameter,
} from "backtest-deploy";

const LIVE_STACK = "live";
const SLOTS = ["a", "b"];
const PROJECT_PACKAGE = "meanrev";

// Files of this folder. Resources take them as paths relative to the program
// folder (this one) and identify them by content and relative path, so runners
// with other checkout folders see no diff.
const here = dirname(fileURLToPath(import.meta.url));

interface Settings {
  stack: string;
  folder: string;
  prefixRoot: string;
  filerMountRoot: string;
  outputRoot: string;
  btdMount: string;
}

function settings(cfg: pulumi.Config): Settings {
  return {
    stack: pulumi.getStack(),
    folder: cfg.get("jenkinsFolder") ?? "meanrev",
    prefixRoot: cfg.get("prefixRoot") ?? "/opt/envs/meanrev",
    filerMountRoot: cfg.require("filerMountRoot"),
    outputRoot: cfg.require("outputRoot"),
    btdMount: cfg.get("btdMount") ?? "btd-mount",
  };
}

function stackName(stack: string): string {
  return `organization/${pulumi.getProject()}/${stack}`;
}

/** The version of the project package pinned in environment.yml (names the env and its jobs). */
function pinnedVersion(envFileText: string): string {
  const m = envFileText.match(new RegExp(`^\\s*-\\s*${PROJECT_PACKAGE}\\s*=+\\s*([^\\s#]+)`, "m"));
  if (!m?.[1])
    throw new Error(`environment.yml must pin ${PROJECT_PACKAGE} (e.g. "- ${PROJECT_PACKAGE}=1.0.0")`);
  return m[1];
}

/** What decides the bytes of a slot's image: the env file and where it is built from and at. */
function envIdentity(envFileText: string, channels: string[], prefixRoot: string, installer: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ envFileText, channels, prefixRoot, installer }))
    .digest("hex");
}

function jobParameters(env: {
  image: pulumi.Input<string>;
  sha256: pulumi.Input<string>;
  prefix: pulumi.Input<string>;
  outputDir: string;
  publish: boolean;
}): JenkinsJobParameter[] {
  return [
    { name: "ENV_IMAGE", default: env.image, description: "squashfs image of the conda env to run in" },
    { name: "ENV_SHA256", default: env.sha256, description: "content hash the image must have" },
    { name: "ENV_PREFIX", default: env.prefix, description: "where the image is mounted (its build prefix)" },
    { name: "SCRIPT", default: "meanrev-backtest", description: "the backtest command to run in the env" },
    { name: "DAYS", default: "500", description: "length of the backtest" },
    { name: "OUTPUT_DIR", default: env.outputDir, description: "where checked results are published" },
    { name: "PUBLISH", default: String(env.publish), description: "copy checked results to OUTPUT_DIR" },
  ];
}

async function slotProgram(cfg: pulumi.Config, s: Settings) {
  const slot = s.stack;
  if (!SLOTS.includes(slot))
    throw new Error(`stack "${slot}" is neither a slot (${SLOTS.join(", ")}) nor "${LIVE_STACK}"`);
  const envFileText = readFileSync(join(here, "environment.yml"), "utf8");
  const version = pinnedVersion(envFileText);
  const channels = cfg.requireObject<string[]>("condaChannels");
  const installer = cfg.get("installer") ?? "mamba";
  const prefixRoot = `${s.prefixRoot}/${slot}`;
  const identity = envIdentity(envFileText, channels, prefixRoot, installer);

  // The live stack publishes which slot serves production and with which env.
  const live = new pulumi.StackReference("live", { name: stackName(LIVE_STACK) });
  const inService = (await live.getOutputDetails("liveSlot")).value === slot;
  const servedIdentity = (await live.getOutputDetails("liveEnvIdentity")).value;
  if (inService && servedIdentity !== identity && !cfg.getBoolean("forceInService")) {
    const idle = SLOTS.find((x) => x !== slot);
    throw new pulumi.RunError(
      `slot ${slot} is in service (stack ${LIVE_STACK} has liveSlot=${slot}) and its env would change ` +
        `(environment.yml now pins ${PROJECT_PACKAGE}=${version}): production jobs have its image mounted, ` +
        `so it is not replaced. Deploy to the idle slot instead (pulumi up -s ${idle}), then switch ${LIVE_STACK}; ` +
        `or set ${pulumi.getProject()}:forceInService=true on stack ${slot} if you really mean it.`,
    );
  }

  const env = new CondaSquashEnv("env", {
    environmentFile: "environment.yml",
    project: PROJECT_PACKAGE,
    channels,
    installer,
    installerDialect: cfg.get("installerDialect"),
    prefixRoot,
    // Runs inside the squashed image mounted read-only at the prefix: what ships is what was tested.
    smokeTest: [
      `${PROJECT_PACKAGE}-backtest --version`,
      `out=$(mktemp -d) && ${PROJECT_PACKAGE}-backtest --days 60 --output "$out" && ${PROJECT_PACKAGE}-check "$out/results.json" --version ${version}`,
    ],
  });

  const image = new FilerArtifact("image", {
    source: env.imagePath,
    sha256: env.sha256,
    remotePath: pulumi.interpolate`envs/${slot}/${env.imageName}`,
    retain: cfg.getNumber("retainImages") ?? 0,
  });
  const imageOnHosts = pulumi.interpolate`${s.filerMountRoot}/${image.remotePath}`;

  const testJob = new JenkinsJob("test-job", {
    name: `${s.folder}/slot-${slot}/backtest-test`,
    createFolders: true,
    jenkinsfile: "jenkins/Jenkinsfile",
    description: "jenkins/description.html",
    template: "jenkins/jenkins-config.xml",
    vars: { keepBuilds: 20, schedule: "" },
    parameters: jobParameters({
      image: imageOnHosts,
      sha256: env.sha256,
      prefix: env.prefix,
      outputDir: `${s.outputRoot}/slot-${slot}`,
      publish: false,
    }),
  });

  return {
    slot,
    version,
    envIdentity: identity,
    imageName: env.imageName,
    imageRemotePath: image.remotePath,
    imageOnHosts,
    sha256: env.sha256,
    prefix: env.prefix,
    packages: env.packages,
    testJobUrl: testJob.jobUrl,
  };
}

async function liveProgram(cfg: pulumi.Config, s: Settings) {
  const liveSlot = cfg.require("liveSlot");
  if (!SLOTS.includes(liveSlot))
    throw new Error(`liveSlot must be one of ${SLOTS.join(", ")}, got "${liveSlot}"`);
  const slotRef = new pulumi.StackReference(`slot-${liveSlot}`, { name: stackName(liveSlot) });
  const out = (name: string) => slotRef.requireOutput(name).apply((v) => String(v));
  const imageRemotePath = out("imageRemotePath");
  const sha256 = out("sha256");
  const prefix = out("prefix");
  const imageOnHosts = pulumi.interpolate`${s.filerMountRoot}/${imageRemotePath}`;

  // The link lives beside the slot folders: envs/current -> a/meanrev-….sqsh.
  const verifyTemplate =
    cfg.get("verifyCommand") ||
    `${s.btdMount} --image {image} --sha256 {sha256} --prefix {prefix} -- sh -c 'out=$(mktemp -d) && meanrev-backtest --days 60 --output "$out" && meanrev-check "$out/results.json" --min-trades 1'`;
  const verify = pulumi
    .all([imageOnHosts, sha256, prefix])
    .apply(([image, sha, pfx]) =>
      verifyTemplate.replaceAll("{image}", image).replaceAll("{sha256}", sha).replaceAll("{prefix}", pfx),
    );
  const link = new FilerLink("current", {
    linkPath: "envs/current",
    target: imageRemotePath.apply((p) => p.replace(/^envs\//, "")),
    verify,
  });

  // Production jobs follow the link: a failed verify leaves them as they were.
  const prodJob = new JenkinsJob(
    "prod-job",
    {
      name: `${s.folder}/prod/backtest`,
      createFolders: true,
      jenkinsfile: "jenkins/Jenkinsfile",
      description: "jenkins/description.html",
      template: "jenkins/jenkins-config.xml",
      vars: { keepBuilds: 100, schedule: cfg.get("schedule") ?? "H 2 * * 1-5" },
      parameters: jobParameters({
        image: imageOnHosts,
        sha256,
        prefix,
        outputDir: s.outputRoot,
        publish: true,
      }),
    },
    { dependsOn: [link] },
  );

  return {
    liveSlot,
    idleSlot: SLOTS.find((x) => x !== liveSlot),
    liveEnvIdentity: out("envIdentity"),
    liveVersion: out("version"),
    imageOnHosts,
    sha256,
    prefix,
    link: pulumi.interpolate`${link.linkPath} -> ${link.target}`,
    prodJobUrl: prodJob.jobUrl,
  };
}

/** The program: its role follows from the stack's name. */
export default async function program() {
  const cfg = new pulumi.Config();
  const s = settings(cfg);
  return s.stack === LIVE_STACK ? liveProgram(cfg, s) : slotProgram(cfg, s);
}
