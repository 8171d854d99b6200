import { describe, expect, it } from "vitest";
import { parseEventLog } from "../../../provider/summary/engine-events.ts";
import { parseSpec } from "../../../provider/summary/env-versions.ts";
import { summarizeEventLog, summaryMain } from "../../../provider/summary/main.ts";
import { SECRET_SIGNATURE_KEY } from "../../../provider/summary/property-values.ts";
import { collectChanges } from "../../../provider/summary/resource-changes.ts";
import { UNKNOWN } from "../../../provider/unknown.ts";

const T = "pulumi-nodejs:dynamic/backtest:";
const urn = (kind: string, name: string) => `urn:pulumi:live::pipeline::${T}${kind}::${name}`;
type Props = Record<string, unknown>;

/** One engine event line as `pulumi preview --event-log` writes it. */
function pre(op: string, kind: string, name: string, old?: Props, next?: Props, extra: Props = {}): string {
  const state = (inputs?: Props) =>
    inputs && {
      type: `${T}${kind}`,
      urn: urn(kind, name),
      inputs: { __provider: "exports.handler = …", ...inputs },
    };
  return JSON.stringify({
    sequence: 1,
    timestamp: 1,
    resourcePreEvent: {
      metadata: {
        op,
        urn: urn(kind, name),
        type: `${T}${kind}`,
        old: state(old),
        new: state(next),
        ...extra,
      },
    },
  });
}

const stack = JSON.stringify({
  resourcePreEvent: {
    metadata: {
      op: "same",
      urn: "urn:pulumi:live::pipeline::pulumi:pulumi:Stack::pipeline-live",
      type: "pulumi:pulumi:Stack",
    },
  },
});

/** A CondaSquashEnv's `packages` output, as the provider records it. */
const installed = (...packages: Array<[name: string, version: string]>) => ({
  packages: packages.map(([name, version]) => ({ name, version, build: "0", channel: "local" })),
});

/** The engine's closing event: the preview ran to its end. */
const summary = JSON.stringify({ summaryEvent: { resourceChanges: { same: 1, update: 2, replace: 1 } } });

const xml = (image: string, extra = "") =>
  [
    "<?xml version='1.1' encoding='UTF-8'?>",
    "<flow-definition>",
    "  <description>nightly backtest</description>",
    "  <properties>",
    `    <env>${image}</env>`,
    extra,
    "  </properties>",
    "</flow-definition>",
    "",
  ]
    .filter((l) => l !== "")
    .join("\n")
    .concat("\n");

const OLD_IMAGE = "/filer/envs/a/meanrev-1.0.0-py311-aaaaaaaaaaaa.sqsh";
const NEW_IMAGE = "/filer/envs/a/meanrev-1.1.0-py311-bbbbbbbbbbbb.sqsh";

describe("preview summary", () => {
  const versionBump = [
    stack,
    pre(
      "create-replacement",
      "CondaSquashEnv",
      "env",
      { specs: ["meanrev=1.0.0", "python=3.11"], prefix: "/opt/envs/meanrev-1.0.0-py311" },
      { specs: ["meanrev=1.1.0", "python=3.11"], prefix: "/opt/envs/meanrev-1.1.0-py311" },
      { keys: ["specs", "prefix"] },
    ),
    pre("replace", "CondaSquashEnv", "env", { specs: ["meanrev=1.0.0"] }, { specs: ["meanrev=1.1.0"] }),
    pre("delete-replaced", "CondaSquashEnv", "env", { specs: ["meanrev=1.0.0"] }),
    pre(
      "update",
      "JenkinsJob",
      "nightly",
      { name: "meanrev-nightly", configXml: xml(OLD_IMAGE), token: "[secret]" },
      { name: "meanrev-nightly", configXml: xml(NEW_IMAGE), token: "[secret]" },
    ),
    pre(
      "update",
      "JenkinsJob",
      "weekly",
      { renderedConfig: xml(OLD_IMAGE) },
      { renderedConfig: xml(NEW_IMAGE, "    <cron>H 2 * * 6</cron>") },
    ),
    pre("same", "JenkinsJob", "untouched", { configXml: xml(OLD_IMAGE) }, { configXml: xml(OLD_IMAGE) }),
  ].join("\n");

  it("collapses a replace's steps into one change and orders by op, type, name", () => {
    const p = collectChanges(parseEventLog(versionBump));
    expect(p.project).toBe("pipeline");
    expect(p.stack).toBe("live");
    expect(p.unchanged).toBe(1);
    expect(p.changes.map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
      "replace CondaSquashEnv env",
      "update JenkinsJob nightly",
      "update JenkinsJob weekly",
    ]);
    expect(p.changes[0]?.replaceKeys).toEqual(["prefix", "specs"]);
  });

  it("reports env versions before and after, and a unified diff per changed config.xml", () => {
    const md = summarizeEventLog(versionBump);
    expect(md).toContain("**0 to delete · 1 to replace · 2 to update · 0 to create** (1 unchanged)");
    expect(md).toContain("| +- replace | CondaSquashEnv | `env` |");
    expect(md).toContain("- prefix: `/opt/envs/meanrev-1.0.0-py311` → `/opt/envs/meanrev-1.1.0-py311`");
    expect(md).toContain("| meanrev | 1.0.0 | 1.1.0 ⬅ |");
    expect(md).toContain("| python | 3.11 | 3.11 |");
    expect(md).toContain("<summary>meanrev-nightly (update)</summary>");
    expect(md).toContain(
      [
        "--- a/meanrev-nightly/config.xml",
        "+++ b/meanrev-nightly/config.xml",
        "@@ -2,6 +2,6 @@",
        " <flow-definition>",
        "   <description>nightly backtest</description>",
        "   <properties>",
        `-    <env>${OLD_IMAGE}</env>`,
        `+    <env>${NEW_IMAGE}</env>`,
      ].join("\n"),
    );
    // renderedConfig is accepted too; the job is named by its resource when it has no name input.
    expect(md).toContain("+++ b/weekly/config.xml");
    expect(md).toContain("+    <cron>H 2 * * 6</cron>");
    expect(md).not.toContain("untouched");
    expect(md).not.toContain("__provider");
  });

  it("shows what an environmentFile asks for against what was installed", () => {
    const line = JSON.parse(
      pre(
        "replace",
        "CondaSquashEnv",
        "env",
        { environmentFile: { path: "environment.yml", sha256: "1" }, project: "meanrev" },
        {
          environmentFile: { path: "environment.yml", sha256: "2" },
          requestedSpecs: ["python=3.11", "meanrev=1.1.0"],
          project: "meanrev",
        },
      ),
    );
    line.resourcePreEvent.metadata.old.outputs = installed(["meanrev", "1.0.0"], ["python", "3.11.2"]);
    const md = summarizeEventLog(JSON.stringify(line));
    expect(md).toContain("| meanrev | 1.0.0 | 1.1.0 ⬅ |");
    expect(md).toContain("| python | 3.11.2 | 3.11 |");
  });

  it("takes exact versions from the recorded package list when there is one", () => {
    const line = pre(
      "update",
      "CondaSquashEnv",
      "env",
      { lockFile: { path: "env.lock", sha256: "1" } },
      { lockFile: { path: "env.lock", sha256: "2" } },
    );
    const withOutputs = JSON.parse(line);
    withOutputs.resourcePreEvent.metadata.old.outputs = installed(["meanrev", "1.0.0"], ["numpy", "1.26.4"]);
    withOutputs.resourcePreEvent.metadata.new.outputs = installed(["meanrev", "1.0.1"], ["numpy", "1.26.4"]);
    const md = summarizeEventLog(JSON.stringify(withOutputs));
    expect(md).toContain("| meanrev | 1.0.0 | 1.0.1 ⬅ |");
    expect(md).not.toContain("| numpy");
  });

  it("never prints a secret, masked or signed", () => {
    const signed = { [SECRET_SIGNATURE_KEY]: "1b47061264138c4ac30d75fd1eb44270", value: "hunter2-token" };
    const md = summarizeEventLog(
      [
        pre(
          "update",
          "JenkinsJob",
          "job",
          { apiToken: signed, configXml: "<a/>\n" },
          { apiToken: { ...signed, value: "s3cr3t-new" }, configXml: "<b/>\n" },
        ),
        pre(
          "update",
          "FilerArtifact",
          "img",
          { sshKey: "[secret]" },
          { sshKey: "[secret]" },
          { diffs: ["sshKey"] },
        ),
        pre("update", "JenkinsJob", "hidden", { configXml: "<a/>\n" }, { configXml: signed }),
      ].join("\n"),
    );
    expect(md).not.toContain("hunter2");
    expect(md).not.toContain("s3cr3t");
    expect(md).toContain("`apiToken`");
    expect(md).toContain("`sshKey`");
    expect(md).toContain("`hidden` (update): config.xml holds a secret; its diff is not shown");
  });

  it("says when a config.xml is known only at deploy, shows a created job whole and a deleted one by name", () => {
    const md = summarizeEventLog(
      [
        pre("update", "JenkinsJob", "later", { configXml: "<a/>\n" }, { configXml: UNKNOWN }),
        pre("create", "JenkinsJob", "fresh", undefined, { configXml: "<project/>\n" }),
        pre("delete", "JenkinsJob", "gone", { configXml: "<project/>\n" }),
      ].join("\n"),
    );
    expect(md).toContain("`later` (update): config.xml depends on values known only at deploy");
    expect(md).toContain("--- /dev/null\n+++ b/fresh/config.xml\n@@ -0,0 +1 @@\n+<project/>");
    expect(md).toContain("`gone` (delete): job deleted");
    expect(md).not.toContain(UNKNOWN);
  });

  it("puts the preview's errors first, without colour markup", () => {
    const md = summarizeEventLog(
      [
        stack,
        JSON.stringify({
          diagnosticEvent: {
            severity: "error",
            message:
              "<{%reset%}>CondaSquashEnv env: slot a is in service; refusing to replace its image<{%reset%}>\n",
          },
        }),
      ].join("\n"),
    );
    expect(md).toContain(
      "**The preview failed:**\n\n> CondaSquashEnv env: slot a is in service; refusing to replace its image",
    );
    expect(md).toContain("No changes (0 unchanged).");
  });

  it("parses spec spellings", () => {
    expect(parseSpec("meanrev=1.0.0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("meanrev==1.0.0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("python=3.11.*")).toEqual({ name: "python", version: "3.11" });
    expect(parseSpec("numpy")).toEqual({ name: "numpy" });
    expect(parseSpec("numpy>=1.26")).toEqual({ name: "numpy" });
  });

  it("refuses a corrupt or empty event log but tolerates a cut last line", async () => {
    expect(() => parseEventLog(`{bad\n${stack}`)).toThrow("BTD_SUMMARY_BAD_EVENT");
    expect(parseEventLog(`${stack}\n{"resourcePre`)).toHaveLength(1);
    expect(() => parseEventLog("")).toThrow("BTD_SUMMARY_EMPTY");
    expect(() => parseEventLog("{bad")).toThrow("BTD_SUMMARY_EMPTY");
    let stdin = `${versionBump}\n${summary}`;
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      readStdin: async () => stdin,
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
    };
    expect(await summaryMain(["-"], io)).toBe(0);
    expect(out.join("")).toContain("meanrev-nightly");
    expect(out.join("")).not.toContain("cut off");
    expect(err).toEqual([]);

    // Cut before the engine's summary: what is there is printed, flagged, and the command fails.
    out.length = 0;
    stdin = versionBump;
    expect(await summaryMain(["-"], io)).toBe(1);
    expect(out.join("")).toContain("the preview was cut off");
    expect(out.join("")).toContain("meanrev-nightly");
    expect(err.join("\n")).toContain("BTD_SUMMARY_INCOMPLETE");
    stdin = "";
    expect(await summaryMain(["-"], io)).toBe(1);
    expect(err.join("\n")).toContain("BTD_SUMMARY_EMPTY");
    expect(await summaryMain(["/nonexistent/events.ndjson"], io)).toBe(1);
    expect(err.join("\n")).toContain("BTD_SUMMARY_READ");
    expect(await summaryMain([], io)).toBe(2);
  });
});
