/**
 * btd-inventory end to end: read every stack of the backend → collect what
 * they own on filers → list the folders on each filer → report owners and
 * orphans → optionally delete the orphans (after listing them, with a prompt
 * or --yes). Returns the exit status; the CLI file only wires process.argv.
 */
import { readFile } from "node:fs/promises";
import { BacktestDeployError } from "../errors.ts";
import { withSession } from "../filer/session.ts";
import { createProgress } from "../progress.ts";
import { registerSecret } from "../redact.ts";
import { type CliOptions, exportStack, listStacks, stackFilerKey } from "./backend.ts";
import { deleteFiles, endpointOf, listFolder } from "./filer.ts";
import { accountId, collectOwned, type OwnedPath } from "./owned.ts";
import {
  buildInventory,
  type FolderListing,
  formatRow,
  missingOwned,
  normalizeFolder,
  planFolders,
} from "./report.ts";

export const EXIT_USAGE = 2;
export const EXIT_FAILED = 1;

export const USAGE = `usage: btd-inventory [--folder PATH]... [--key-file FILE] [--delete-orphans [--yes]]

Lists the files on the filer(s) that the stacks of the Pulumi backend deploy
to, with the stack and resource that own each, and flags files no stack owns
(left by an interrupted deploy, or put there by hand).

  --folder PATH      folder to list, relative to the deploy account's root
                     (repeatable; default: the folder of every known artifact)
  --key-file FILE    the deploy account's SSH private key (default:
                     $BTD_FILER_PRIVATE_KEY, else the stack config
                     backtest:filerPrivateKey when run in the project folder)
  --delete-orphans   delete the orphans after listing them; asks first
  --yes              do not ask (needed without a terminal)

The backend is the one pulumi uses: $PULUMI_BACKEND_URL or \`pulumi login\`;
secrets need $PULUMI_CONFIG_PASSPHRASE (or the KMS credentials) as for pulumi.`;

export interface InventoryOptions {
  folders: string[];
  keyFile?: string;
  deleteOrphans: boolean;
  yes: boolean;
}

export interface InventoryIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  /** Whether a person can answer a prompt. */
  isTty: boolean;
  /** Asks a yes/no question; only called when isTty. */
  confirm: (question: string) => Promise<boolean>;
  cwd?: string;
}

function usage(reason: string): BacktestDeployError {
  return new BacktestDeployError({ code: "BTD_INVENTORY_USAGE", reason, hint: "see btd-inventory --help" });
}

export function parseInventoryArgs(argv: readonly string[]): InventoryOptions | "help" {
  const o: InventoryOptions = { folders: [], deleteOrphans: false, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] =
      a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        return "help";
      case "--folder": {
        const raw = value();
        const f = normalizeFolder(raw);
        if (!f)
          throw usage(`--folder must be a path inside the deploy account's root, got ${JSON.stringify(raw)}`);
        o.folders.push(f);
        break;
      }
      case "--key-file":
        o.keyFile = value();
        break;
      case "--delete-orphans":
        o.deleteOrphans = true;
        break;
      case "--yes":
      case "-y":
        o.yes = true;
        break;
      default:
        throw usage(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  return o;
}

async function filerKey(
  o: InventoryOptions,
  io: InventoryIo,
  cli: CliOptions,
  stacks: string[],
): Promise<string> {
  const key =
    (o.keyFile ? await readFile(o.keyFile, "utf8") : undefined) ??
    io.env.BTD_FILER_PRIVATE_KEY ??
    (await firstStackKey(cli, stacks));
  if (!key) {
    throw new BacktestDeployError({
      code: "BTD_INVENTORY_NO_KEY",
      reason: "no SSH private key for the filer's deploy account",
      hint: "pass --key-file FILE, set BTD_FILER_PRIVATE_KEY, or run in the project folder whose stacks set backtest:filerPrivateKey",
    });
  }
  registerSecret(key);
  return key;
}

async function firstStackKey(cli: CliOptions, stacks: string[]): Promise<string | undefined> {
  for (const s of stacks) {
    const k = await stackFilerKey(cli, s);
    if (k) return k;
  }
  return undefined;
}

export async function inventoryMain(argv: readonly string[], io: InventoryIo): Promise<number> {
  try {
    const o = parseInventoryArgs(argv);
    if (o === "help") {
      io.stdout(USAGE);
      return 0;
    }
    if (o.deleteOrphans && !o.yes && !io.isTty) {
      throw usage("--delete-orphans without a terminal needs --yes (nobody is there to confirm)");
    }
    return await runInventory(o, io);
  } catch (err) {
    io.stderr(`btd-inventory: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof BacktestDeployError && err.code === "BTD_INVENTORY_USAGE"
      ? EXIT_USAGE
      : EXIT_FAILED;
  }
}

async function runInventory(o: InventoryOptions, io: InventoryIo): Promise<number> {
  const cli: CliOptions = { env: io.env, ...(io.cwd ? { cwd: io.cwd } : {}) };
  const stacks = await listStacks(cli);
  const owned: OwnedPath[] = [];
  for (const s of stacks) owned.push(...collectOwned(s, await exportStack(cli, s)));
  io.stdout(`${stacks.length} stack(s), ${owned.length} owned path(s) on the filer`);
  if (owned.length === 0) return 0;
  const key = await filerKey(o, io, cli, stacks);
  const ctx = {
    label: "btd-inventory",
    progress: createProgress("btd-inventory"),
    config: { get: () => undefined },
  };
  const plan = planFolders(owned, o.folders);
  const listings: FolderListing[] = [];
  for (const { account, folders } of plan.values()) {
    await withSession(endpointOf(account, key), ctx, "list", async (s) => {
      for (const folder of folders) listings.push({ account, folder, entries: await listFolder(s, folder) });
    });
  }
  const rows = buildInventory(owned, listings);
  for (const r of rows) io.stdout(formatRow(r));
  for (const m of missingOwned(owned, listings))
    io.stdout(
      `MISSING ${m.path}: owned by ${m.stack} ${m.resource} but not on the filer (pulumi refresh -s ${m.stack} shows the drift)`,
    );
  const orphans = rows.filter((r) => r.orphan);
  io.stdout(`${rows.length} file(s), ${orphans.length} orphan(s)`);
  if (!o.deleteOrphans || orphans.length === 0) return 0;

  io.stdout(`will delete ${orphans.length} orphan(s):`);
  for (const r of orphans) io.stdout(`  ${r.account} ${r.path}`);
  if (!o.yes && !(await io.confirm(`Delete these ${orphans.length} file(s)? [y/N] `))) {
    io.stdout("nothing deleted");
    return 0;
  }
  for (const { account } of plan.values()) {
    const id = accountId(account);
    const paths = orphans.filter((r) => r.account === id).map((r) => r.path);
    if (paths.length === 0) continue;
    await withSession(endpointOf(account, key), ctx, "delete", (s) => deleteFiles(s, paths));
    for (const p of paths) io.stdout(`deleted ${id} ${p}`);
  }
  return 0;
}
