/**
 * btd-mount end to end: parse → verify the image's hash (host cache) →
 * join the shared mount → run the command → leave (unmount if last).
 * Returns the exit status; the CLI file only wires process.argv to it.
 */
import { BacktestDeployError } from "../errors.ts";
import { matchesExpected, resolveExpectedHash } from "./expected-hash.ts";
import { imageSha256 } from "./image-hash-cache.ts";
import { parseMountArgs, type RunOptions, USAGE } from "./options.ts";
import { identityOf } from "./process-liveness.ts";
import { runInside } from "./run-inside.ts";
import { collectGarbage, joinMount, leaveMount, recordCommand } from "./shared-mount.ts";

/** Like env(1) and docker: the helper's own failures are 125, usage errors 2. */
export const EXIT_HELPER_FAILED = 125;
export const EXIT_USAGE = 2;

export interface MountIo {
  stderr: (line: string) => void;
  stdout: (line: string) => void;
  env: Record<string, string | undefined>;
}

export async function mountMain(argv: readonly string[], io: MountIo): Promise<number> {
  let verbose = false;
  const say = (line: string) => io.stderr(`btd-mount: ${line}`);
  const detail = (line: string) => {
    if (verbose) say(line);
  };
  try {
    const opts = parseMountArgs(argv, io.env);
    if (opts.kind === "help") {
      io.stdout(USAGE);
      return 0;
    }
    verbose = opts.verbose;
    if (opts.kind === "gc") {
      const unmounted = await collectGarbage(opts.stateDir, detail);
      for (const p of unmounted) say(`unmounted ${p}: no running job uses it`);
      if (unmounted.length === 0) detail("nothing to unmount");
      return 0;
    }
    return await runWithMount(opts, say, detail);
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    return err instanceof BacktestDeployError && err.code === "BTD_MOUNT_USAGE"
      ? EXIT_USAGE
      : EXIT_HELPER_FAILED;
  }
}

async function runWithMount(
  opts: RunOptions,
  say: (line: string) => void,
  detail: (line: string) => void,
): Promise<number> {
  const expected = resolveExpectedHash(opts.image, opts.sha256);
  const hash = await imageSha256(opts.stateDir, opts.image, detail);
  if (!matchesExpected(hash.sha256, expected)) {
    throw new BacktestDeployError({
      code: "BTD_MOUNT_HASH_MISMATCH",
      reason: `${opts.image} has sha256 ${hash.sha256}, but the job expects ${expected.hex} (from ${expected.from}); not mounting it`,
      hint: "the image on the filer is not the one this job was rendered with: redeploy the stack (pulumi up) or fix the path in the job",
    });
  }
  const me = identityOf(process.pid);
  if (!me) throw new BacktestDeployError({ code: "BTD_MOUNT_PROC", reason: "cannot read /proc/self/stat" });
  await joinMount(
    { stateDir: opts.stateDir, image: opts.image, prefix: opts.prefix, sha256: hash.sha256, me },
    detail,
  );
  let status = EXIT_HELPER_FAILED;
  try {
    status = await runInside(
      opts.prefix,
      opts.command,
      async (pid) => {
        const child = identityOf(pid);
        if (child) await recordCommand(opts.stateDir, opts.prefix, me, child, detail);
      },
      say,
    );
  } finally {
    await leaveMount(opts.stateDir, opts.prefix, me, detail);
  }
  return status;
}
