/**
 * Looks one remote path up by listing its parent folder. Listing the path
 * itself does not work when it is missing: the Python rrsync then dies
 * ("post-realpath open failed … No such file or directory") instead of
 * rsync reporting a missing file.
 */
import { basename, dirname } from "node:path";
import { hasCode } from "../errors.ts";
import { type ListEntry, listArgs, parseListing } from "./rsync-args.ts";
import type { FilerSession } from "./session.ts";

const MISSING = /No such file or directory/;

export async function lookupRemote(
  s: FilerSession,
  relPath: string,
  knobs: { timeoutSeconds: number },
): Promise<ListEntry | undefined> {
  const parent = dirname(relPath);
  try {
    const listed = await s.rsync(listArgs(parent === "." ? "./" : `${parent}/`, knobs), {
      okExitCodes: [23],
    });
    return parseListing(listed.stdout).find((e) => e.name === basename(relPath));
  } catch (err) {
    if (hasCode(err, "BTD_FILER_RSYNC_FAILED") && MISSING.test(String((err as Error).message)))
      return undefined;
    throw err;
  }
}
