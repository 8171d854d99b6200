/**
 * Reproducible squashfs images: the same tree and flags give the same bytes.
 * mksquashfs 4.5 gives us fixed times (-mkfs-time, -all-time), owners
 * (-all-root), no xattrs and no appending; what it does not normalise
 * (permission bits, hardlink structure) we fix before or with -no-hardlinks.
 * SOURCE_DATE_EPOCH is removed from its environment: 4.5 refuses it
 * together with the time flags, and an env var of the runner must not
 * change the bytes behind the resource's back.
 */
import { runCommand } from "../exec.ts";
import type { Progress } from "../progress.ts";

export const COMPRESSIONS = ["zstd", "gzip", "xz", "lz4", "lzo"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Valid -Xcompression-level range per compressor; absent: the compressor takes no level. */
export const LEVELS: Partial<Record<Compression, { min: number; max: number; default: number }>> = {
  zstd: { min: 1, max: 22, default: 15 },
  gzip: { min: 1, max: 9, default: 9 },
  lzo: { min: 1, max: 9, default: 8 },
};

export const BLOCK_SIZES = [4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576] as const;

export interface SquashOptions {
  compression: Compression;
  level?: number;
  blockSize: number;
  processors?: number;
  /** mksquashfs -mem, e.g. "512M". */
  mem?: string;
  /** Every timestamp in the image (seconds since the epoch). */
  time?: number;
}

export function squashArgs(source: string, dest: string, o: SquashOptions): string[] {
  const time = String(o.time ?? 0);
  const args = [
    source,
    dest,
    "-noappend",
    "-no-xattrs",
    "-all-root",
    "-no-hardlinks",
    "-mkfs-time",
    time,
    "-all-time",
    time,
    "-root-mode",
    "0755",
    "-comp",
    o.compression,
  ];
  const level = o.level ?? LEVELS[o.compression]?.default;
  if (level !== undefined && LEVELS[o.compression]) args.push("-Xcompression-level", String(level));
  args.push("-b", String(o.blockSize));
  if (o.processors !== undefined) args.push("-processors", String(o.processors));
  if (o.mem !== undefined) args.push("-mem", o.mem);
  return args;
}

export interface SquashRun {
  progress?: Progress;
  resource?: string;
  op?: string;
}

export async function squashTree(
  source: string,
  dest: string,
  o: SquashOptions,
  run: SquashRun = {},
): Promise<void> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && k !== "SOURCE_DATE_EPOCH") env[k] = v;
  await runCommand("mksquashfs", squashArgs(source, dest, o), {
    env,
    extendEnv: false,
    progress: run.progress,
    phase: "squash",
    code: "BTD_SQUASHFS_MKSQUASHFS",
    resource: run.resource,
    op: run.op,
    hint: "check free space in the work folder and that squashfs-tools 4.5+ is installed",
  });
}

/**
 * Permission bits as a package manager would set them, independent of the
 * umask of whoever built: directories 0755, files 0755 when anyone may
 * execute them, else 0644. Symlinks have no mode of their own. One `find`
 * walk with batched chmods: an env has tens of thousands of files, and a
 * stat+chmod per file from Node costs seconds and memory on every build.
 * Returns how many entries it changed.
 */
export async function normalizePermissions(root: string): Promise<number> {
  const { stdout } = await runCommand(
    "find",
    [
      root,
      ...["(", "-type", "d", "!", "-perm", "0755", "-print", "-exec", "chmod", "0755", "{}", "+", ")"],
      ...[
        "-o",
        "(",
        "-type",
        "f",
        "-perm",
        "/111",
        "!",
        "-perm",
        "0755",
        "-print",
        "-exec",
        "chmod",
        "0755",
        "{}",
        "+",
        ")",
      ],
      ...[
        "-o",
        "(",
        "-type",
        "f",
        "!",
        "-perm",
        "/111",
        "!",
        "-perm",
        "0644",
        "-print",
        "-exec",
        "chmod",
        "0644",
        "{}",
        "+",
        ")",
      ],
    ],
    { code: "BTD_SQUASHFS_PERMISSIONS", hint: "check that the build folder is readable and writable" },
  );
  return stdout.split("\n").filter(Boolean).length;
}
