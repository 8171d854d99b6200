/**
 * Ownership marker. Jenkins has no notion of who manages a job, so, as
 * Jenkins Job Builder does, every job we render ends its description with a
 * marker; ours names the tool, the Pulumi project and the stack, because two
 * projects may each have a stack called `prod` and must not take each
 * other's jobs. A job without a marker is never overwritten or deleted
 * unless the program says `adopt`.
 */

export interface MarkerOwner {
  project: string;
  stack: string;
}

const PREFIX = "Managed by backtest-deploy";
const MARKER = /<!-- Managed by backtest-deploy \(project: ([^,()]*), stack: ([^,()]*)\)[^>]*-->\s*$/;

/** The marker text, an HTML comment so the job page does not show it. */
export function renderMarker(owner: MarkerOwner): string {
  return `<!-- ${PREFIX} (project: ${owner.project}, stack: ${owner.stack}); edits made in Jenkins will be overwritten -->`;
}

/** The description with the marker appended on its own line. */
export function withMarker(description: string, owner: MarkerOwner): string {
  const body = description.replace(/\s+$/, "");
  return body.length === 0 ? renderMarker(owner) : `${body}\n${renderMarker(owner)}`;
}

/** The owner named by a job description's marker, or undefined when it has none. */
export function readMarker(description: string | undefined): MarkerOwner | undefined {
  if (description === undefined) return undefined;
  const m = MARKER.exec(description);
  if (!m) return undefined;
  return { project: m[1] ?? "", stack: m[2] ?? "" };
}

export type Ownership = "ours" | "unmarked" | "foreign";

export function ownershipOf(description: string | undefined, me: MarkerOwner): Ownership {
  const found = readMarker(description);
  if (!found) return "unmarked";
  return found.project === me.project && found.stack === me.stack ? "ours" : "foreign";
}

export function describeOwner(owner: MarkerOwner): string {
  return `project "${owner.project}", stack "${owner.stack}"`;
}
