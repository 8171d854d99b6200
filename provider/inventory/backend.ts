/**
 * Reads the backend through the Pulumi CLI, so every backend the CLI
 * supports (PostgreSQL, S3, a folder, Pulumi Cloud) works alike; the backend
 * URL and the passphrase (or KMS credentials) come from the environment as for
 * any other pulumi command.
 */
import { BacktestDeployError } from "../errors.ts";
import { runCommand } from "../exec.ts";

export interface CliOptions {
  /** The pulumi executable. Default: "pulumi" on PATH. */
  pulumi?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

const NOT_LOGGED_IN =
  "set PULUMI_BACKEND_URL to the team's backend (e.g. postgres://…) or run `pulumi login <url>` first";

async function pulumi(o: CliOptions, args: string[], what: string): Promise<string> {
  const r = await runCommand(o.pulumi ?? "pulumi", [...args, "--non-interactive", "--color", "never"], {
    cwd: o.cwd,
    env: { PULUMI_SKIP_UPDATE_CHECK: "true", ...o.env },
    code: "BTD_INVENTORY_PULUMI_FAILED",
    op: what,
    hint: NOT_LOGGED_IN,
  });
  return r.stdout;
}

/** Fully qualified names (organization/project/stack) of every stack of every project. */
export async function listStacks(o: CliOptions): Promise<string[]> {
  const text = await pulumi(
    o,
    ["stack", "ls", "--all", "--json", "--fully-qualify-stack-names"],
    "list stacks",
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new BacktestDeployError({
      code: "BTD_INVENTORY_PULUMI_OUTPUT",
      op: "list stacks",
      reason: `pulumi stack ls --json printed something that is not JSON: ${text.slice(0, 200)}`,
      cause,
    });
  }
  if (!Array.isArray(parsed)) return [];
  return parsed
    .map((s) => (typeof s === "object" && s !== null ? (s as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === "string");
}

/** The stack's deployment as `pulumi stack export` prints it (secrets stay encrypted). */
export async function exportStack(o: CliOptions, stack: string): Promise<unknown> {
  return JSON.parse(await pulumi(o, ["stack", "export", "--stack", stack], `export ${stack}`)) as unknown;
}

/** The filer key from a stack's config (`backtest:filerPrivateKey`), when run in the project's folder. */
export async function stackFilerKey(o: CliOptions, stack: string): Promise<string | undefined> {
  try {
    const key = await pulumi(
      o,
      ["config", "get", "backtest:filerPrivateKey", "--stack", stack],
      `config of ${stack}`,
    );
    return key.trim() === "" ? undefined : `${key.trim()}\n`;
  } catch {
    return undefined;
  }
}
