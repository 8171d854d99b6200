/**
 * What the stacks say they own on filers: every FilerArtifact's current and
 * retained versions, every FilerLink's link, and the remote path of each
 * FilerArtifact or FilerLink whose create was interrupted (a pending
 * operation: the file may be there, and the next deploy adopts it). Pure:
 * reads exported deployments, no I/O.
 */

export const ARTIFACT_TYPE = "pulumi-nodejs:dynamic/backtest:FilerArtifact";
export const LINK_TYPE = "pulumi-nodejs:dynamic/backtest:FilerLink";

export interface FilerAccount {
  host: string;
  port: number;
  user: string;
  /** Pinned host key lines, as the resources hold them in state. */
  hostKeys: string[];
}

export type OwnedRole = "current" | "retained" | "link" | "pending";

export interface OwnedPath {
  account: FilerAccount;
  /** Relative to the account's rrsync root. */
  path: string;
  stack: string;
  /** "FilerArtifact image" */
  resource: string;
  urn: string;
  role: OwnedRole;
}

interface StateResource {
  urn?: unknown;
  type?: unknown;
  inputs?: unknown;
  outputs?: unknown;
}

type Bag = Record<string, unknown>;

function bag(v: unknown): Bag {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Bag) : {};
}

// Secret values are {"4dabf…": "1b47…", ciphertext}: anything not a plain string is no path.
function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function accountId(a: Pick<FilerAccount, "host" | "port" | "user">): string {
  return `${a.user}@${a.host}:${a.port}`;
}

function accountOf(props: Bag): FilerAccount | undefined {
  const host = str(props.host);
  const user = str(props.user);
  const port = Number(props.port);
  if (!host || !user || !Number.isInteger(port)) return undefined;
  const hostKeys = Array.isArray(props.hostKeys)
    ? props.hostKeys.filter((k): k is string => typeof k === "string")
    : [];
  return { host, port, user, hostKeys };
}

function label(type: string, urn: string): string {
  const kind = type.split(":").pop() ?? type;
  return `${kind} ${urn.split("::").pop() ?? urn}`;
}

function ownedBy(stack: string, r: StateResource, pending: boolean): OwnedPath[] {
  const type = str(r.type);
  const urn = str(r.urn);
  if (!type || !urn || (type !== ARTIFACT_TYPE && type !== LINK_TYPE)) return [];
  // A pending create has no outputs yet; its checked inputs already hold the rendered path.
  const props = { ...bag(r.inputs), ...bag(r.outputs) };
  const account = accountOf(props);
  if (!account) return [];
  const base = { account, stack, urn, resource: label(type, urn) };
  const out: OwnedPath[] = [];
  if (type === LINK_TYPE) {
    const p = str(props.linkPath);
    if (p) out.push({ ...base, path: p, role: pending ? "pending" : "link" });
    return out;
  }
  const p = str(props.remotePath);
  if (p) out.push({ ...base, path: p, role: pending ? "pending" : "current" });
  if (Array.isArray(props.retained)) {
    for (const v of props.retained) {
      const rp = str(bag(v).remotePath);
      if (rp) out.push({ ...base, path: rp, role: "retained" });
    }
  }
  return out;
}

/** Everything one stack's exported deployment (`pulumi stack export`) owns on filers. */
export function collectOwned(stack: string, exported: unknown): OwnedPath[] {
  const d = bag(bag(exported).deployment);
  const resources = Array.isArray(d.resources) ? (d.resources as StateResource[]) : [];
  const pending = Array.isArray(d.pending_operations) ? d.pending_operations : [];
  return [
    ...resources.flatMap((r) => ownedBy(stack, r, false)),
    ...pending.flatMap((op) => ownedBy(stack, bag(bag(op).resource) as StateResource, true)),
  ];
}
