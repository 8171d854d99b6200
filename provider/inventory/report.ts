/**
 * Joins what the stacks own with what the filer holds: one row per remote
 * file, with its owners, or flagged as an orphan when no stack owns it. Pure.
 */
import { dirname } from "node:path";
import { accountId, type FilerAccount, type OwnedPath } from "./owned.ts";

export interface RemoteFile {
  kind: "file" | "link" | "other";
  size: number;
  target?: string;
}

export interface FolderListing {
  account: FilerAccount;
  /** Relative to the rrsync root, without a trailing slash. */
  folder: string;
  /** Files and links directly in the folder, by name. Subfolders are not walked. */
  entries: ReadonlyMap<string, RemoteFile>;
}

export interface InventoryRow {
  account: string;
  path: string;
  file: RemoteFile;
  owners: OwnedPath[];
  orphan: boolean;
}

/** A folder given on the command line, relative to the rrsync root: "envs/a/" → "envs/a". */
export function normalizeFolder(folder: string): string | undefined {
  const f = folder.replace(/^\.?\/+/, "").replace(/\/+$/, "");
  if (f === "" || f === ".") return ".";
  if (f.split("/").some((part) => part === ".." || part === "")) return undefined;
  return f;
}

/** The folders to list per account: the given ones, or else the parent folder of every owned path. */
export function planFolders(
  owned: OwnedPath[],
  given: readonly string[],
): Map<string, { account: FilerAccount; folders: string[] }> {
  const out = new Map<string, { account: FilerAccount; folders: string[] }>();
  for (const o of owned) {
    const id = accountId(o.account);
    const entry = out.get(id) ?? { account: o.account, folders: [] };
    // Host keys of every resource on the account are pinned: any of them may be the current one.
    for (const k of o.account.hostKeys)
      if (!entry.account.hostKeys.includes(k)) entry.account.hostKeys.push(k);
    const folders = given.length > 0 ? given : [dirname(o.path)];
    for (const f of folders) if (!entry.folders.includes(f)) entry.folders.push(f);
    out.set(id, entry);
  }
  for (const e of out.values()) e.folders.sort();
  return out;
}

export function buildInventory(owned: OwnedPath[], listings: FolderListing[]): InventoryRow[] {
  const byPath = new Map<string, OwnedPath[]>();
  for (const o of owned) {
    const key = `${accountId(o.account)}\0${o.path}`;
    byPath.set(key, [...(byPath.get(key) ?? []), o]);
  }
  const rows: InventoryRow[] = [];
  for (const l of listings) {
    const account = accountId(l.account);
    for (const [name, file] of l.entries) {
      const path = l.folder === "." ? name : `${l.folder}/${name}`;
      const owners = byPath.get(`${account}\0${path}`) ?? [];
      rows.push({ account, path, file, owners, orphan: owners.length === 0 });
    }
  }
  return rows.sort((a, b) => (a.account + a.path < b.account + b.path ? -1 : 1));
}

/** Owned paths that are not on the filer: a deleted file, or a create that never got that far. */
export function missingOwned(owned: OwnedPath[], listings: FolderListing[]): OwnedPath[] {
  const listed = new Set(listings.map((l) => `${accountId(l.account)}\0${l.folder}`));
  const present = new Set(
    listings.flatMap((l) =>
      [...l.entries.keys()].map(
        (n) => `${accountId(l.account)}\0${l.folder === "." ? n : `${l.folder}/${n}`}`,
      ),
    ),
  );
  return owned.filter((o) => {
    const id = accountId(o.account);
    return (
      listed.has(`${id}\0${dirname(o.path)}`) && !present.has(`${id}\0${o.path}`) && o.role !== "pending"
    );
  });
}

export function formatRow(r: InventoryRow): string {
  const what =
    r.file.kind === "link" ? `${r.path} -> ${r.file.target ?? "?"}` : `${r.path} (${r.file.size} bytes)`;
  if (r.orphan) return `ORPHAN  ${r.account} ${what}: no stack owns it`;
  const owners = r.owners.map(
    (o) => `${o.stack} ${o.resource}${o.role === "current" || o.role === "link" ? "" : ` [${o.role}]`}`,
  );
  return `owned   ${r.account} ${what}: ${owners.join(", ")}`;
}
