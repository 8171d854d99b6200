/**
 * Pulumi engine events, as `pulumi preview --event-log FILE` writes them
 * (one JSON object a line) and as the Automation API's onEvent hands them
 * over. Only the fields the summary reads are typed; everything arrives as
 * unknown and is narrowed here, so a newer CLI adding fields breaks nothing.
 */
import { BacktestDeployError } from "../errors.ts";

export type PropertyBag = Record<string, unknown>;

export interface StepState {
  type?: string;
  inputs?: PropertyBag;
  outputs?: PropertyBag;
}

export interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: StepState;
  new?: StepState;
  diffs?: string[];
  /** Properties whose change forces the replace. */
  keys?: string[];
  detailedDiff?: Record<string, { kind?: string; inputDiff?: boolean }>;
}

export interface EngineEvent {
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
  resOpFailedEvent?: { metadata: StepMetadata };
  diagnosticEvent?: { message?: string; severity?: string; urn?: string };
  summaryEvent?: { resourceChanges?: Record<string, number> };
}

function isBag(v: unknown): v is PropertyBag {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stepState(v: unknown): StepState | undefined {
  if (!isBag(v)) return undefined;
  return {
    ...(typeof v.type === "string" ? { type: v.type } : {}),
    ...(isBag(v.inputs) ? { inputs: v.inputs } : {}),
    ...(isBag(v.outputs) ? { outputs: v.outputs } : {}),
  };
}

function stepMetadata(v: unknown): StepMetadata | undefined {
  if (!isBag(v) || !isBag(v.metadata)) return undefined;
  const m = v.metadata;
  if (typeof m.op !== "string" || typeof m.urn !== "string" || typeof m.type !== "string") return undefined;
  const old = stepState(m.old);
  const next = stepState(m.new);
  return {
    op: m.op,
    urn: m.urn,
    type: m.type,
    ...(old ? { old } : {}),
    ...(next ? { new: next } : {}),
    ...(Array.isArray(m.diffs) ? { diffs: m.diffs.filter((d): d is string => typeof d === "string") } : {}),
    ...(Array.isArray(m.keys) ? { keys: m.keys.filter((d): d is string => typeof d === "string") } : {}),
    ...(isBag(m.detailedDiff) ? { detailedDiff: m.detailedDiff as StepMetadata["detailedDiff"] } : {}),
  };
}

/** Narrows one decoded event; unknown kinds come back empty. */
export function toEngineEvent(raw: unknown): EngineEvent {
  if (!isBag(raw)) return {};
  const event: EngineEvent = {};
  for (const key of ["resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"] as const) {
    const m = stepMetadata(raw[key]);
    if (m) event[key] = { metadata: m };
  }
  const d = raw.diagnosticEvent;
  if (isBag(d)) {
    event.diagnosticEvent = {
      ...(typeof d.message === "string" ? { message: d.message } : {}),
      ...(typeof d.severity === "string" ? { severity: d.severity } : {}),
      ...(typeof d.urn === "string" ? { urn: d.urn } : {}),
    };
  }
  const s = raw.summaryEvent;
  if (isBag(s) && isBag(s.resourceChanges)) {
    event.summaryEvent = { resourceChanges: s.resourceChanges as Record<string, number> };
  }
  return event;
}

/** Parses an event log. A line cut short (the CLI killed mid-write) is skipped only if it is the last. */
export function parseEventLog(text: string): EngineEvent[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const events = lines.flatMap((line, i) => {
    try {
      return [toEngineEvent(JSON.parse(line))];
    } catch (err) {
      if (i === lines.length - 1) return [];
      throw new BacktestDeployError({
        code: "BTD_SUMMARY_BAD_EVENT",
        reason: `line ${i + 1} of the event log is not JSON: ${(err as Error).message}`,
        hint: "pass the file written by `pulumi preview --event-log FILE` (one JSON engine event per line)",
      });
    }
  });
  // An empty log must not read as "no changes".
  if (events.length === 0) {
    throw new BacktestDeployError({
      code: "BTD_SUMMARY_EMPTY",
      reason: "the event log holds no engine event",
      hint: "pass the file written by `pulumi preview --event-log FILE`, after the preview ran",
    });
  }
  return events;
}
