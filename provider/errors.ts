import { redact } from "./redact.ts";

/**
 * Every error the provider raises. Callers match on `code` (BTD_<AREA>_<WHAT>),
 * never on instanceof: a serialized provider from an older release may meet
 * errors from a newer installed package.
 */
export interface ErrorFacts {
  code: string;
  /** Resource kind and name, e.g. "FilerArtifact image". */
  resource?: string;
  op?: string;
  /** What went wrong, in the remote system's own words where there are any. */
  reason: string;
  /** What the user should do about it. */
  hint?: string;
  cause?: unknown;
}

export class BacktestDeployError extends Error {
  readonly code: string;
  readonly resource: string | undefined;
  readonly op: string | undefined;
  readonly hint: string | undefined;

  constructor(facts: ErrorFacts) {
    super(formatMessage(facts), facts.cause === undefined ? undefined : { cause: facts.cause });
    this.code = facts.code;
    this.resource = facts.resource;
    this.op = facts.op;
    this.hint = facts.hint;
  }
}
BacktestDeployError.prototype.name = "BacktestDeployError";

/** A bad input: names the property, the value and, where finite, the allowed values. */
export class InputError extends BacktestDeployError {
  readonly property: string;
  constructor(facts: ErrorFacts & { property: string }) {
    super(facts);
    this.property = facts.property;
  }
}
InputError.prototype.name = "InputError";

/** A subprocess that failed: what ran, how it ended and the tail of what it said. */
export class CommandError extends BacktestDeployError {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderrTail: string;
  constructor(
    facts: ErrorFacts & { command: string; exitCode?: number; signal?: string; stderrTail?: string },
  ) {
    super(facts);
    this.command = redact(facts.command);
    this.exitCode = facts.exitCode;
    this.signal = facts.signal;
    this.stderrTail = redact(facts.stderrTail ?? "");
  }
}
CommandError.prototype.name = "CommandError";

export function formatMessage(facts: ErrorFacts): string {
  const head = [facts.resource, facts.op].filter(Boolean).join(" ");
  const parts = [head ? `${head}: ${facts.reason}` : facts.reason];
  if (facts.hint) parts.push(`Fix: ${facts.hint}`);
  parts.push(`[${facts.code}]`);
  return redact(parts.join(" "));
}

export function hasCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}

/** Last lines of a process's output, for error messages. */
export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}
