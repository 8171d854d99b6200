/**
 * One change per resource from a preview's events. The engine reports a
 * replace as several steps (create-replacement, replace, delete-replaced);
 * reviewers want one line saying "replace".
 */
import type { EngineEvent, StepMetadata, StepState } from "./engine-events.ts";

export type ChangeOp = "create" | "update" | "replace" | "delete" | "import";

export const OP_ORDER: readonly ChangeOp[] = ["delete", "replace", "update", "create", "import"];

const OP_OF_STEP: Record<string, ChangeOp> = {
  create: "create",
  update: "update",
  delete: "delete",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  "discard-replaced": "replace",
  import: "import",
  "import-replacement": "replace",
};

export interface ResourceChange {
  op: ChangeOp;
  urn: string;
  /** Full type token, e.g. pulumi-nodejs:dynamic/backtest:JenkinsJob. */
  type: string;
  /** Last segment of the type token, e.g. JenkinsJob. */
  kind: string;
  name: string;
  old?: StepState;
  new?: StepState;
  /** Top-level properties that differ. */
  changedProperties: string[];
  /** Properties whose change forces the replace. */
  replaceKeys: string[];
}

export interface PreviewChanges {
  project?: string;
  stack?: string;
  changes: ResourceChange[];
  unchanged: number;
  errors: string[];
  /** The log holds the engine's closing summary: the preview ran to its end. */
  complete: boolean;
}

function isInternal(type: string): boolean {
  return type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");
}

export function shortType(type: string): string {
  return type.split(":").pop() || type;
}

export function nameOfUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** The dynamic provider's serialized code: it changes with the package, not with the resource. */
const PROVIDER_PROPERTY = "__provider";

function topLevel(keys: readonly string[]): string[] {
  // detailedDiff keys are property paths (configXml, specs[0]): reviewers need the top-level name.
  return keys.map((k) => k.split(/[.[]/)[0] ?? k);
}

/**
 * What differs. Previews of dynamic resources often carry neither diffs
 * nor detailedDiff, so the checked inputs are compared too.
 */
function changedProperties(m: StepMetadata): string[] {
  const reported = topLevel([...Object.keys(m.detailedDiff ?? {}), ...(m.diffs ?? []), ...(m.keys ?? [])]);
  const compared: string[] = [];
  const before = m.old?.inputs;
  const after = m.new?.inputs;
  if (before && after) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) compared.push(key);
    }
  }
  return [...new Set([...reported, ...compared])].filter((k) => k !== PROVIDER_PROPERTY).sort();
}

/** Strips the CLI's colour markup (<{%reset%}>) from diagnostic text. */
export function plainText(message: string): string {
  return message.replace(/<\{%[^%]*%\}>/g, "").trim();
}

export function collectChanges(events: readonly EngineEvent[]): PreviewChanges {
  const byUrn = new Map<string, ResourceChange>();
  const unchanged = new Set<string>();
  const errors: string[] = [];
  let project: string | undefined;
  let stack: string | undefined;
  let complete = false;
  for (const event of events) {
    if (event.summaryEvent) complete = true;
    const d = event.diagnosticEvent;
    if (d?.severity === "error" && d.message) errors.push(plainText(d.message));
    const m = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
    if (!m) continue;
    const parts = m.urn.match(/^urn:pulumi:([^:]+)::([^:]+)::/);
    if (parts) {
      stack ??= parts[1];
      project ??= parts[2];
    }
    if (isInternal(m.type)) continue;
    const op = OP_OF_STEP[m.op];
    if (!op) {
      if (m.op === "same") unchanged.add(m.urn);
      continue;
    }
    unchanged.delete(m.urn);
    const prev = byUrn.get(m.urn);
    const merged: ResourceChange = {
      op: prev?.op === "replace" || op === "replace" ? "replace" : op,
      urn: m.urn,
      type: m.type,
      kind: shortType(m.type),
      name: nameOfUrn(m.urn),
      ...((prev?.old ?? m.old) ? { old: prev?.old ?? m.old } : {}),
      ...((prev?.new ?? m.new) ? { new: prev?.new ?? m.new } : {}),
      changedProperties: [...new Set([...(prev?.changedProperties ?? []), ...changedProperties(m)])].sort(),
      replaceKeys: [...new Set([...(prev?.replaceKeys ?? []), ...topLevel(m.keys ?? [])])].sort(),
    };
    byUrn.set(m.urn, merged);
  }
  const changes = [...byUrn.values()].sort(
    (a, b) =>
      OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) ||
      a.kind.localeCompare(b.kind) ||
      a.name.localeCompare(b.name),
  );
  for (const c of changes) unchanged.delete(c.urn);
  return { project, stack, changes, unchanged: unchanged.size, errors, complete };
}
