/**
 * Package versions of a CondaSquashEnv before and after, for reviewers:
 * "meanrev 1.0.0 → 1.1.0". Before comes from the recorded package list
 * (exact) or the old specs; after from the new package list when the
 * engine knows it, else from the new specs (a preview rarely knows the
 * outputs of an env that changes).
 */
import type { PropertyBag } from "./engine-events.ts";
import { containsSecret } from "./property-values.ts";
import type { ResourceChange } from "./resource-changes.ts";

export const CONDA_ENV_KIND = "CondaSquashEnv";

export interface VersionRow {
  name: string;
  before?: string;
  after?: string;
}

export interface EnvVersions {
  resource: string;
  op: string;
  rows: VersionRow[];
  prefixBefore?: string;
  prefixAfter?: string;
}

/** "meanrev=1.0.0", "meanrev==1.0.0", "python=3.11.*", "meanrev 1.0.0": name → version; bare names have none. */
export function parseSpec(spec: string): { name: string; version?: string } {
  const m = spec.trim().match(/^([A-Za-z0-9_.-]+)\s*(?:(?:==?|\s)\s*([^\s,;|<>=!~]+))?/);
  if (!m?.[1]) return { name: spec.trim() };
  return m[2] ? { name: m[1], version: m[2].replace(/\.\*$/, "") } : { name: m[1] };
}

/** The specs given, or those an environmentFile asks for. */
function fromSpecs(props: PropertyBag | undefined): Map<string, string | undefined> | undefined {
  const specs = props?.specs ?? props?.requestedSpecs;
  if (!Array.isArray(specs) || containsSecret(specs)) return undefined;
  const out = new Map<string, string | undefined>();
  for (const s of specs) if (typeof s === "string") out.set(parseSpec(s).name, parseSpec(s).version);
  return out;
}

function fromPackages(props: PropertyBag | undefined): Map<string, string> | undefined {
  const packages = props?.packages;
  if (!Array.isArray(packages) || containsSecret(packages)) return undefined;
  const out = new Map<string, string>();
  for (const p of packages) {
    if (typeof p === "object" && p !== null) {
      const { name, version } = p as { name?: unknown; version?: unknown };
      if (typeof name === "string" && typeof version === "string") out.set(name, version);
    } else if (typeof p === "string") {
      const { name, version } = parseSpec(p);
      if (version) out.set(name, version);
    }
  }
  return out.size > 0 ? out : undefined;
}

function stringProp(props: PropertyBag | undefined, key: string): string | undefined {
  const v = props?.[key];
  return typeof v === "string" && !containsSecret(v) ? v : undefined;
}

export function envVersions(change: ResourceChange): EnvVersions {
  const oldSpecs = fromSpecs(change.old?.inputs) ?? fromSpecs(change.old?.outputs);
  const newSpecs = fromSpecs(change.new?.inputs);
  const oldPackages = fromPackages(change.old?.outputs);
  const newPackages = fromPackages(change.new?.outputs);
  // The names reviewers care about: what the specs ask for, and the project.
  const names = new Set<string>([...(oldSpecs?.keys() ?? []), ...(newSpecs?.keys() ?? [])]);
  const project = stringProp(change.new?.inputs, "project") ?? stringProp(change.old?.inputs, "project");
  if (project) names.add(project);
  if (names.size === 0 && oldPackages && newPackages) {
    for (const [n, v] of newPackages) if (oldPackages.get(n) !== v) names.add(n);
    for (const n of oldPackages.keys()) if (!newPackages.has(n)) names.add(n);
  }
  const rows = [...names].sort().map((name): VersionRow => {
    const before = oldPackages?.get(name) ?? oldSpecs?.get(name);
    const after = newPackages?.get(name) ?? newSpecs?.get(name);
    return { name, ...(before ? { before } : {}), ...(after ? { after } : {}) };
  });
  const prefixBefore = stringProp(change.old?.outputs, "prefix") ?? stringProp(change.old?.inputs, "prefix");
  const prefixAfter = stringProp(change.new?.inputs, "prefix") ?? stringProp(change.new?.outputs, "prefix");
  return {
    resource: change.name,
    op: change.op,
    rows,
    ...(prefixBefore ? { prefixBefore } : {}),
    ...(prefixAfter ? { prefixAfter } : {}),
  };
}
