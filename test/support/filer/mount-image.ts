import { mkdir, readdir, readFile, realpath } from "node:fs/promises";
import { execa } from "execa";
import { waitFor } from "./wait-for.ts";

export interface MountedImage {
  /** Resolved path the image is mounted at. */
  readonly mountPoint: string;
  /** Unmounts and returns once the kernel no longer lists the mount. */
  unmount(): Promise<void>;
}

/**
 * Mounts a squashfs image read-only at `prefix` with squashfuse, the way a job
 * host mounts an env image at the prefix it was built for. Refuses a non-empty
 * folder: mounting over files would hide them and confuse the test that made them.
 */
export async function mountImage(imagePath: string, prefix: string): Promise<MountedImage> {
  await mkdir(prefix, { recursive: true });
  const mountPoint = await realpath(prefix);
  if (await isMountPoint(mountPoint)) throw new Error(`mountImage: ${mountPoint} is already a mount point`);
  const entries = await readdir(mountPoint);
  if (entries.length > 0) {
    throw new Error(
      `mountImage: ${mountPoint} is not empty (${entries.slice(0, 5).join(", ")}); refusing to mount over it`,
    );
  }
  await execa("squashfuse", [imagePath, mountPoint]);
  await waitFor(async () => ((await isMountPoint(mountPoint)) ? true : undefined), {
    what: `${imagePath} to appear mounted at ${mountPoint} in /proc/self/mountinfo`,
  });
  return {
    mountPoint,
    unmount: async () => {
      await execa("fusermount3", ["-u", mountPoint]);
      await waitFor(async () => ((await isMountPoint(mountPoint)) ? undefined : true), {
        what: `${mountPoint} to leave /proc/self/mountinfo`,
      });
    },
  };
}

/** Whether `path` (already resolved) is the mount point of some mount. */
export async function isMountPoint(path: string): Promise<boolean> {
  const mountInfo = await readFile("/proc/self/mountinfo", "utf8");
  return mountInfo.split("\n").some((line) => unescapeMountPath(line.split(" ")[4] ?? "") === path);
}

// The kernel writes space, tab, newline and backslash in mount paths as octal escapes.
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
