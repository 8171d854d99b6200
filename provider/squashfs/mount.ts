/**
 * Read-only mounts of an image at its prefix with squashfuse, for the smoke
 * test: the commands run against exactly the bytes that ship.
 */
import { readFile } from "node:fs/promises";
import { BacktestDeployError } from "../errors.ts";
import { runCommand } from "../exec.ts";

export interface Mounted {
  mountPoint: string;
  unmount(): Promise<void>;
}

export async function mountReadOnly(image: string, mountPoint: string, label?: string): Promise<Mounted> {
  if (await isMountPoint(mountPoint)) {
    throw new BacktestDeployError({
      code: "BTD_SQUASHFS_ALREADY_MOUNTED",
      resource: label,
      reason: `${mountPoint} is already a mount point`,
      hint: `unmount it (fusermount3 -u ${mountPoint}) and run again`,
    });
  }
  await runCommand("squashfuse", ["-o", "ro", image, mountPoint], {
    code: "BTD_SQUASHFS_MOUNT",
    resource: label,
    op: "smoke test",
    hint: "check that squashfuse is installed and /dev/fuse is usable (FUSE permissions, user_allow_other)",
  });
  await waitUntil(() => isMountPoint(mountPoint), true, `${image} to be mounted at ${mountPoint}`);
  return {
    mountPoint,
    unmount: () => unmount(mountPoint, label),
  };
}

export async function unmount(mountPoint: string, label?: string): Promise<void> {
  if (!(await isMountPoint(mountPoint))) return;
  // A smoke command that left a process with its cwd inside keeps the mount busy for a moment.
  let lastError: unknown;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await runCommand("fusermount3", ["-u", mountPoint], { code: "BTD_SQUASHFS_UNMOUNT", resource: label });
      await waitUntil(() => isMountPoint(mountPoint), false, `${mountPoint} to be unmounted`);
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
  throw lastError;
}

export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .some(
      (line) =>
        (line.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
          String.fromCharCode(Number.parseInt(o, 8)),
        ) === path,
    );
}

async function waitUntil(probe: () => Promise<boolean>, want: boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await probe()) === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new BacktestDeployError({
    code: "BTD_SQUASHFS_MOUNT_TIMEOUT",
    reason: `timed out waiting for ${what}`,
  });
}
