/**
 * The config.xml a JenkinsJob would send, before and after. JenkinsJob's
 * check() renders it into its checked inputs so that preview can show it;
 * any resource carrying one of these properties gets a diff.
 */
import type { PropertyBag } from "./engine-events.ts";
import { containsSecret, isUnknownValue } from "./property-values.ts";
import type { ResourceChange } from "./resource-changes.ts";
import { unifiedDiff } from "./unified-diff.ts";

/** Checked-input properties that hold the rendered config.xml, first match wins. */
// JenkinsJob keeps the rendered config.xml in its checked inputs as `config`.
export const CONFIG_XML_PROPERTIES = ["config", "configXml", "renderedConfig"] as const;

export const MAX_DIFF_LINES = 400;

export type ConfigValue =
  | { kind: "text"; text: string }
  | { kind: "secret" }
  | { kind: "unknown" }
  | { kind: "absent" };

export function configOf(props: PropertyBag | undefined): ConfigValue {
  for (const key of CONFIG_XML_PROPERTIES) {
    const v = props?.[key];
    if (v === undefined) continue;
    if (containsSecret(v)) return { kind: "secret" };
    if (isUnknownValue(v)) return { kind: "unknown" };
    if (typeof v === "string") return { kind: "text", text: v };
  }
  return { kind: "absent" };
}

export interface ConfigDiff {
  resource: string;
  jobName: string;
  op: string;
  /** The diff, or why there is none to show. */
  diff?: string;
  note?: string;
}

function jobNameOf(c: ResourceChange): string {
  for (const props of [c.new?.inputs, c.old?.inputs]) {
    for (const key of ["fullName", "jobName", "name"]) {
      const v = props?.[key];
      if (typeof v === "string" && v && !containsSecret(v) && !isUnknownValue(v)) return v;
    }
  }
  return c.name;
}

function capped(diff: string): string {
  const lines = diff.split("\n");
  if (lines.length <= MAX_DIFF_LINES) return diff;
  return `${lines.slice(0, MAX_DIFF_LINES).join("\n")}\n… ${lines.length - MAX_DIFF_LINES} more lines\n`;
}

export function configDiff(c: ResourceChange): ConfigDiff | undefined {
  const before = c.op === "create" ? ({ kind: "absent" } as ConfigValue) : configOf(c.old?.inputs);
  const after = c.op === "delete" ? ({ kind: "absent" } as ConfigValue) : configOf(c.new?.inputs);
  if (before.kind === "absent" && after.kind === "absent") return undefined;
  const jobName = jobNameOf(c);
  const base = { resource: c.name, jobName, op: c.op };
  if (before.kind === "secret" || after.kind === "secret") {
    return { ...base, note: "config.xml holds a secret; its diff is not shown" };
  }
  if (after.kind === "unknown") {
    return {
      ...base,
      note: "config.xml depends on values known only at deploy (e.g. a new image); it will be re-rendered then",
    };
  }
  if (c.op === "delete") return { ...base, note: "job deleted" };
  const oldText = before.kind === "text" ? before.text : "";
  const newText = after.kind === "text" ? after.text : "";
  const diff = unifiedDiff(oldText, newText, {
    oldLabel: before.kind === "text" ? `a/${jobName}/config.xml` : "/dev/null",
    newLabel: `b/${jobName}/config.xml`,
  });
  if (!diff) return undefined;
  return { ...base, diff: capped(diff) };
}
