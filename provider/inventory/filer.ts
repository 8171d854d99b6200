/**
 * The filer side of the inventory, through the same verified SSH tunnel and
 * rrsync account the resources use: list a folder, delete files.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { OpContext } from "../context.ts";
import { hasCode } from "../errors.ts";
import { type PinnedHostKey, parseHostKeyLine } from "../filer/host-keys.ts";
import { deleteArgs, listArgs, parseListing } from "../filer/rsync-args.ts";
import { DEFAULT_TIMEOUT_SECONDS, type FilerEndpoint, type FilerSession } from "../filer/session.ts";
import type { FilerAccount } from "./owned.ts";
import type { RemoteFile } from "./report.ts";

const KNOBS = { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
// The newer rrsync dies on a missing path instead of letting rsync report it (see filer/remote-list.ts).
const MISSING = /No such file or directory/;

export function endpointOf(account: FilerAccount, privateKey: string): FilerEndpoint {
  return {
    host: account.host,
    port: account.port,
    user: account.user,
    privateKey,
    hostKeys: account.hostKeys.map(parseHostKeyLine).filter((k): k is PinnedHostKey => typeof k !== "string"),
  };
}

/** Files and links directly in `folder`; empty when the folder does not exist. */
export async function listFolder(s: FilerSession, folder: string): Promise<Map<string, RemoteFile>> {
  const out = new Map<string, RemoteFile>();
  let stdout: string;
  try {
    stdout = (await s.rsync(listArgs(folder === "." ? "./" : `${folder}/`, KNOBS), { okExitCodes: [23] }))
      .stdout;
  } catch (err) {
    if (hasCode(err, "BTD_FILER_RSYNC_FAILED") && MISSING.test(String((err as Error).message))) return out;
    throw err;
  }
  for (const e of parseListing(stdout)) {
    if (e.kind === "dir" || e.name === "." || e.name.includes("/")) continue;
    const file: RemoteFile = { kind: e.kind, size: e.size };
    if (e.target !== undefined) file.target = e.target;
    out.set(e.name, file);
  }
  return out;
}

export async function deleteFiles(s: FilerSession, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const empty = await s.scratch();
  await Promise.all(paths.map((p) => mkdir(join(empty, dirname(p)), { recursive: true })));
  await s.rsync(deleteArgs({ emptyDir: empty, relPaths: paths, ...KNOBS }));
}

export type { OpContext };
