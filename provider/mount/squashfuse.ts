/**
 * Mount and unmount with squashfuse. The daemon is started with a bare
 * environment: Jenkins' process-tree killer ends every process that carries
 * the build's cookie (JENKINS_NODE_COOKIE, BUILD_ID) when a build ends,
 * which would pull the mount from under the other jobs sharing it.
 * allow_other lets jobs of other users read the mount.
 */
import { BacktestDeployError } from "../errors.ts";
import { runCommand } from "../exec.ts";
import { mountAt } from "./mount-table.ts";

const WAIT_MS = 10_000;

export async function mountImage(image: string, prefix: string): Promise<void> {
  await runCommand("squashfuse", ["-o", "ro,allow_other", image, prefix], {
    code: "BTD_MOUNT_SQUASHFUSE",
    resource: `btd-mount ${prefix}`,
    op: "mount",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    extendEnv: false,
    hint: "check that squashfuse is installed and /dev/fuse usable; a non-root user needs user_allow_other in /etc/fuse.conf",
  });
  await waitFor(async () => (await mountAt(prefix)) !== undefined, `${image} to appear at ${prefix}`);
}

/** Returns the reason when the kernel refuses (busy, or a mount of another user). */
export async function unmountPrefix(prefix: string, lazy = false): Promise<string | undefined> {
  try {
    await runCommand("fusermount3", lazy ? ["-u", "-z", prefix] : ["-u", prefix], {
      code: "BTD_MOUNT_UNMOUNT",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      extendEnv: false,
    });
  } catch (err) {
    return (err as Error).message;
  }
  await waitFor(async () => (await mountAt(prefix)) === undefined, `${prefix} to be unmounted`);
  return undefined;
}

async function waitFor(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new BacktestDeployError({ code: "BTD_MOUNT_TIMEOUT", reason: `timed out waiting for ${what}` });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
