/**
 * One env build, transactional: install at the prefix → record lock and
 * packages → normalise → squash → remove the tree → smoke-test the image
 * mounted read-only at the prefix → publish under its content hash. Any
 * failure removes the partial image, the tree and the scratch folder; the
 * package cache stays (it is a cache).
 */
import { constants } from "node:fs";
import { access, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { OpContext } from "../context.ts";
import { BacktestDeployError, CommandError } from "../errors.ts";
import { runCommand } from "../exec.ts";
import { sha256File, sha256Text } from "../hash.ts";
import { registerSecret } from "../redact.ts";
import { resolveSetting } from "../settings.ts";
import { mountReadOnly } from "../squashfs/mount.ts";
import { normalizePermissions, squashTree } from "../squashfs/squash.ts";
import { acquireBuildSlot } from "./build-lock.ts";
import type { CondaSquashEnvInputs } from "./inputs.ts";
import {
  createFromEnvFileArgs,
  createFromLockArgs,
  createFromSpecsArgs,
  type Dialect,
  exportLockArgs,
  installerEnv,
  listJsonArgs,
  parseInstallerVersion,
  versionArgs,
} from "./installer-dialect.ts";
import {
  canonicalLock,
  parseExplicitLock,
  stripLockCredentials,
  stripUrlCredentials,
  withToken,
} from "./lock.ts";
import { normalizeCondaMeta, normalizePycTimestamps } from "./normalize.ts";
import { pythonTagOf } from "./prefix.ts";
import { claimPrefix, clearDir, releasePrefix, requireFreeSpace } from "./prefix-claim.ts";
import { imageFileName, type Workspace, workspaceFor } from "./workspace.ts";

export interface InstalledPackage {
  name: string;
  version: string;
  build: string;
  channel: string;
}

export interface BuildResult {
  imagePath: string;
  imageName: string;
  sha256: string;
  sizeBytes: number;
  lock: string;
  packages: InstalledPackage[];
  installerVersion: string;
}

export const DEFAULT_MIN_FREE_BYTES = 2 * 2 ** 30;

export function registerInputSecrets(i: CondaSquashEnvInputs): void {
  for (const token of Object.values(i.channelCredentials ?? {})) registerSecret(token);
}

export async function buildImage(i: CondaSquashEnvInputs, ctx: OpContext): Promise<BuildResult> {
  registerInputSecrets(i);
  const ws = workspaceFor(i.prefix, i.workDir, ctx.config);
  const slots = Number(resolveSetting("condaBuildSlots", undefined, ctx.config, "1"));
  ctx.progress.step("wait", `waiting for an env build slot (at most ${slots} per host)`);
  const slot = await acquireBuildSlot({
    lockDir: ws.lockDir,
    slots: Number.isInteger(slots) && slots > 0 ? slots : 1,
    onWait: (ms) =>
      ctx.progress.tick({ phase: "wait", message: `all build slots busy for ${Math.round(ms / 1000)} s` }),
  });
  try {
    return await buildInSlot(i, ws, ctx);
  } finally {
    await slot.release();
  }
}

async function buildInSlot(i: CondaSquashEnvInputs, ws: Workspace, ctx: OpContext): Promise<BuildResult> {
  const installer = await resolveInstaller(i.installer, ctx.label);
  const dialect = i.installerDialect;
  const minFree = Number(
    resolveSetting("condaMinFreeBytes", undefined, ctx.config, String(DEFAULT_MIN_FREE_BYTES)),
  );
  await mkdir(ws.workDir, { recursive: true });
  await requireFreeSpace([i.prefix, ws.workDir], minFree, ctx.label);

  const env = installerEnv(dialect, ws.pkgsDir, ws.rootPrefix);
  const run = (args: string[], phase: string, hint: string) =>
    runCommand(installer, args, {
      env,
      progress: ctx.progress,
      phase,
      code: "BTD_CONDA_INSTALL",
      resource: ctx.label,
      op: "create",
      hint,
    });
  const installerVersion = parseInstallerVersion(
    (await run(versionArgs(dialect), "installer", "check the installer works: run it with --version")).stdout,
  );

  await rm(ws.buildDir, { recursive: true, force: true });
  await mkdir(ws.buildDir, { recursive: true });
  let published: string | undefined;
  const partial = join(ws.buildDir, "image.sqsh.partial");
  try {
    await claimPrefix(i.prefix, ws.ownerRecord, i.btdName, ctx.label);
    ctx.progress.step("install", `building ${i.prefix} with ${installer} (${dialect} ${installerVersion})`);
    await run(
      await installArgs(i, dialect, ws),
      "install",
      "read the installer's message above: fix the specs, channels or lock",
    );

    const lockText = (
      await run(exportLockArgs(dialect, i.prefix), "lock", "the installer could not list the env")
    ).stdout;
    const { problems } = parseExplicitLock(lockText);
    if (problems.length > 0) {
      throw new BacktestDeployError({
        code: "BTD_CONDA_LOCK_EXPORT",
        resource: ctx.label,
        op: "create",
        reason: `the installer's explicit lock is not usable: ${problems.map((p) => p.reason).join("; ")}`,
        hint: "use an installer that prints `list --explicit --md5`",
      });
    }
    const packages = parsePackageList(
      (await run(listJsonArgs(dialect, i.prefix), "lock", "the installer could not list the env")).stdout,
    );
    const stem = imageStem(i, packages);

    ctx.progress.step("normalise", "fixing timestamps and permissions written by the installer");
    await normalizeCondaMeta(i.prefix);
    await normalizePycTimestamps(i.prefix);
    await normalizePermissions(i.prefix);

    ctx.progress.step(
      "squash",
      `squashing ${i.prefix} (${i.squashfs.compression}${i.squashfs.level ? ` level ${i.squashfs.level}` : ""}, block ${i.squashfs.blockSize})`,
    );
    await squashTree(i.prefix, partial, i.squashfs, {
      progress: ctx.progress,
      resource: ctx.label,
      op: "create",
    });
    // The hash reads the image while the tree is dropped and the image tested: both only read it.
    const hashing = sha256File(partial, (done) =>
      ctx.progress.tick({ phase: "hash", message: "hashing the image", done }),
    );
    // Handled here so a read error waits for its turn below instead of crashing the provider.
    hashing.catch(() => undefined);
    try {
      // What ships is what was tested: drop the tree, test the image itself at the prefix.
      await clearDir(i.prefix);
      await smokeTest(partial, i, ws, ctx);
    } catch (err) {
      // The cleanup below removes the image: let the hash finish with it first.
      await hashing.catch(() => undefined);
      throw err;
    }
    const sha256 = await hashing;
    const sizeBytes = (await stat(partial)).size;

    const imageName = imageFileName(stem, sha256);
    const imagePath = join(ws.workDir, imageName);
    await rename(partial, imagePath);
    published = imagePath;
    ctx.progress.step("publish", `${imageName} (${(sizeBytes / 2 ** 20).toFixed(1)} MiB, sha256 ${sha256})`);
    if (!i.keepLocalImage) await rm(imagePath, { force: true });
    return {
      imagePath,
      imageName,
      sha256,
      sizeBytes,
      lock: `${stripLockCredentials(lockText.trimEnd())}\n`,
      packages: packages.map((p) => ({ ...p, channel: stripUrlCredentials(p.channel) })),
      installerVersion,
    };
  } catch (err) {
    if (published) await rm(published, { force: true });
    throw err;
  } finally {
    await releasePrefix(ws.ownerRecord, ctx.label);
    await rm(ws.buildDir, { recursive: true, force: true });
  }
}

async function installArgs(i: CondaSquashEnvInputs, dialect: Dialect, ws: Workspace): Promise<string[]> {
  const channels = i.channels.map((c) => withCredentials(c, i.channelCredentials));
  if (i.lockFile) {
    const text = await readVerified(i.lockFile.path, i.lockFile.sha256, "lockFile", (t) =>
      sha256Text(canonicalLock(parseExplicitLock(t).lock)),
    );
    const file = join(ws.buildDir, "lock.txt");
    const withCreds = text
      .split("\n")
      .map((line) =>
        line.startsWith("#") || line.startsWith("@") ? line : withCredentials(line, i.channelCredentials),
      )
      .join("\n");
    await writeFile(file, withCreds, { mode: 0o600 });
    return createFromLockArgs(dialect, { prefix: i.prefix, file });
  }
  if (i.environmentFile) {
    const text = await readVerified(
      i.environmentFile.path,
      i.environmentFile.sha256,
      "environmentFile",
      sha256Text,
    );
    const file = join(ws.buildDir, "environment.yml");
    await writeFile(file, text, { mode: 0o600 });
    return createFromEnvFileArgs(dialect, {
      prefix: i.prefix,
      file,
      channels,
      overrideChannels: i.overrideChannels && channels.length > 0,
    });
  }
  return createFromSpecsArgs(dialect, {
    prefix: i.prefix,
    specs: i.specs ?? [],
    channels,
    overrideChannels: i.overrideChannels && channels.length > 0,
  });
}

function withCredentials(url: string, creds: Record<string, string> | undefined): string {
  for (const [channel, token] of Object.entries(creds ?? {})) {
    if (url.startsWith(channel)) return withToken(url, token);
  }
  return url;
}

/** The file preview saw must be the file we build: a change in between is an error, not a silent other env. */
async function readVerified(
  path: string,
  sha256: string,
  property: string,
  hash: (text: string) => string,
): Promise<string> {
  const text = await readFile(isAbsolute(path) ? path : resolve(path), "utf8");
  if (hash(text) !== sha256) {
    throw new BacktestDeployError({
      code: "BTD_CONDA_INPUT_CHANGED",
      op: "create",
      reason: `${property} ${path} changed after it was checked`,
      hint: "run the deploy again so preview sees the current file",
    });
  }
  return text;
}

async function resolveInstaller(installer: string, label: string): Promise<string> {
  const candidates = isAbsolute(installer)
    ? [installer]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, installer));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new BacktestDeployError({
    code: "BTD_CONDA_INSTALLER_NOT_FOUND",
    resource: label,
    op: "create",
    reason: isAbsolute(installer)
      ? `installer ${installer} does not exist or is not executable`
      : `installer "${installer}" is not on PATH`,
    hint: "install it on the deploy runner, or set installer to its absolute path",
  });
}

export function parsePackageList(json: string): InstalledPackage[] {
  const raw = JSON.parse(json) as Array<Record<string, unknown>>;
  return raw
    .map((p) => ({
      name: String(p.name),
      version: String(p.version),
      build: String(p.build_string ?? p.build ?? ""),
      channel: String(p.base_url ?? p.channel ?? ""),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** `<project>-<version>[-py<XY>]`, from what was actually installed. */
export function imageStem(
  i: Pick<CondaSquashEnvInputs, "project" | "specs">,
  packages: InstalledPackage[],
): string {
  const wanted =
    i.project ?? (i.specs ?? []).map((s) => s.split(/[=<>!~ ]/)[0]).find((n) => n && n !== "python");
  const main = packages.find((p) => p.name === wanted) ??
    packages.find((p) => p.name !== "python") ?? { name: "env", version: "0" };
  const py = pythonTagOf(packages.find((p) => p.name === "python")?.version);
  return `${main.name}-${main.version}${py ? `-py${py}` : ""}`;
}

async function smokeTest(
  image: string,
  i: CondaSquashEnvInputs,
  ws: Workspace,
  ctx: OpContext,
): Promise<void> {
  if (i.smokeTest.length === 0) return;
  const cwd = join(ws.buildDir, "smoke");
  await mkdir(cwd, { recursive: true });
  const mounted = await mountReadOnly(image, i.prefix, ctx.label);
  try {
    for (const command of i.smokeTest) {
      ctx.progress.step("smoke", `$ ${command}`);
      try {
        await runCommand("sh", ["-c", command], {
          cwd,
          env: {
            PATH: `${join(i.prefix, "bin")}${delimiter}${process.env.PATH ?? ""}`,
            CONDA_PREFIX: i.prefix,
            PYTHONDONTWRITEBYTECODE: "1",
          },
          progress: ctx.progress,
          phase: "smoke",
          code: "BTD_CONDA_SMOKE_FAILED",
          resource: ctx.label,
          op: "create",
          hint: "the env does not pass its smoke test: nothing was published; fix the package or the smokeTest command",
        });
      } catch (err) {
        if (err instanceof CommandError) {
          throw new CommandError({
            code: "BTD_CONDA_SMOKE_FAILED",
            resource: ctx.label,
            op: "create",
            reason: `smoke test \`${command}\` failed inside the image mounted at ${i.prefix} (exit ${err.exitCode ?? err.signal}):\n${err.stderrTail}`,
            hint: "nothing was published; fix the package or the smokeTest command",
            command,
            exitCode: err.exitCode,
            stderrTail: err.stderrTail,
          });
        }
        throw err;
      }
    }
  } finally {
    await mounted.unmount();
  }
}
