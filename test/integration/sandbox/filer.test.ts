import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa, type Result } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Filer, isMountPoint, mountImage, startFiler } from "../../support/filer/index.ts";
import { waitFor } from "../../support/filer/wait-for.ts";

const LOCK_REFUSAL = "Another instance of rrsync is already accessing this directory.";
const RSYNC_OPTIONS = { reject: false, all: true } as const;
const LEGACY_REFUSAL = "invalid rsync-command syntax or options";

let work: string;
let rw: Filer;
let wo: Filer;
let ro: Filer;
let noDel: Filer;
let legacy: Filer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "btd-filer-test-"));
  [rw, wo, ro, noDel, legacy] = await Promise.all([
    startFiler(),
    startFiler({ mode: "wo" }),
    startFiler({ mode: "ro" }),
    startFiler({ mode: "no-del" }),
    startFiler({ rrsync: "legacy" }),
  ]);
});

afterAll(async () => {
  await Promise.all([rw, wo, ro, noDel, legacy].map((filer) => filer?.stop()));
  if (work) await rm(work, { recursive: true, force: true });
});

function rsync(
  filer: Filer,
  args: string[],
  sshCommand = filer.rsyncSshCommand(),
): Promise<Result<typeof RSYNC_OPTIONS>> {
  return execa("rsync", ["-e", sshCommand, ...args], RSYNC_OPTIONS);
}

/** Writes `bytes` at work/<base>/<rel> and returns the `-R` source spelled base/./rel. */
async function stage(base: string, rel: string, bytes: Buffer): Promise<string> {
  const path = join(work, base, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return `${join(work, base)}/./${rel}`;
}

/** Resolves once rsync's temp file for `name` exists in `dir`: the push is mid-transfer. */
function transferInProgress(dir: string, name: string): Promise<true> {
  return waitFor(
    async () => {
      const entries = await readdir(dir).catch(() => []);
      return entries.some((entry) => entry.startsWith(`.${name}.`)) ? true : undefined;
    },
    { what: `rsync's temp file for ${name} in ${dir}` },
  );
}

describe("startFiler (Debian's Python rrsync)", () => {
  it("pins an ed25519 host key that the server really presents", async () => {
    const { stdout } = await execa("ssh-keyscan", ["-t", "ed25519", "-p", String(rw.port), rw.host]);
    expect(stdout).toContain(rw.hostKey);
    const { stdout: fingerprint } = await execa("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], {
      input: rw.hostKey,
    });
    expect(fingerprint).toContain(rw.hostKeyFingerprint);
    expect(rw.otherHostKey).toMatch(/^ssh-ed25519 /);
    expect(rw.otherHostKey).not.toBe(rw.hostKey);
    expect(rw.privateKey).toContain("BEGIN OPENSSH PRIVATE KEY");
  });

  it("pushes missing parents with -R and a /./ anchor, re-rooted under root", async () => {
    await rw.clearCommandLog();
    const bytes = randomBytes(64 * 1024);
    const source = await stage("push", "images/a/proj-1.0.0.sqsh", bytes);

    const result = await rsync(rw, ["-a", "-R", source, rw.remote("./")]);

    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(join(rw.root, "images/a/proj-1.0.0.sqsh"))).toEqual(bytes);
    expect(await readdir(join(rw.root, "images/a"))).toEqual(["proj-1.0.0.sqsh"]);
    expect(await rw.commandLog()).toEqual(["rsync --server -logDtprRe.iLsfxCIvu . ./"]);
  });

  it("logs a no-op run, so an empty log proves that nothing connected", async () => {
    const source = await stage("noop", "n/file", Buffer.from("same bytes\n"));
    expect((await rsync(rw, ["-a", "-R", source, rw.remote("./")])).exitCode).toBe(0);
    await rw.clearCommandLog();
    expect(await rw.commandLog()).toEqual([]);

    const again = await rsync(rw, ["-a", "-R", "--itemize-changes", source, rw.remote("./")]);

    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toBe("");
    expect(await rw.commandLog()).toEqual(["rsync --server -logDtprRe.iLsfxCIvu --log-format=%i . ./"]);
  });

  it("deletes one remote file with --delete-missing-args when deletion is allowed", async () => {
    await mkdir(join(rw.root, "del"), { recursive: true });
    await writeFile(join(rw.root, "del/old.sqsh"), "old");
    // -R sends the implied parent dirs too, so they must exist locally (else exit 24, "vanished").
    await mkdir(join(work, "del-src/del"), { recursive: true });

    const result = await rsync(rw, [
      "-R",
      "--delete-missing-args",
      `${work}/del-src/./del/old.sqsh`,
      rw.remote("./"),
    ]);

    expect(result.exitCode, result.all).toBe(0);
    expect(await readdir(join(rw.root, "del"))).toEqual([]);
  });

  it("-wo accepts a push and refuses a listing", async () => {
    const source = await stage("wo", "w/file", Buffer.from("w\n"));
    expect((await rsync(wo, ["-a", "-R", source, wo.remote("./")])).exitCode).toBe(0);

    const listing = await rsync(wo, ["--list-only", wo.remote("./")]);

    expect(listing.exitCode).not.toBe(0);
    expect(listing.stderr).toContain("reading from write-only server is not allowed");
  });

  it("-ro serves a pull and refuses a push", async () => {
    await writeFile(join(ro.root, "published"), "ro\n");
    const pulled = join(work, "pulled");
    expect((await rsync(ro, [ro.remote("published"), pulled])).exitCode).toBe(0);
    expect(await readFile(pulled, "utf8")).toBe("ro\n");

    const push = await rsync(ro, [pulled, ro.remote("./")]);

    expect(push.exitCode).not.toBe(0);
    expect(push.stderr).toContain("sending to read-only server is not allowed");
  });

  it("-no-del refuses --delete-missing-args and keeps the file", async () => {
    await mkdir(join(noDel.root, "del"), { recursive: true });
    await writeFile(join(noDel.root, "del/keep.sqsh"), "keep");

    const result = await rsync(noDel, [
      "-R",
      "--delete-missing-args",
      `${work}/del-src/./del/keep.sqsh`,
      noDel.remote("./"),
    ]);

    expect(result.exitCode).toBe(12);
    expect(result.stderr).toContain("option --delete-missing-args has been disabled on this server.");
    expect(await readFile(join(noDel.root, "del/keep.sqsh"), "utf8")).toBe("keep");
  });

  it("refuses a second concurrent push on the lock, client exit 12", async () => {
    const big = await stage("lock-src", "lock/big.bin", randomBytes(3 * 1024 * 1024));
    const small = await stage("lock-src", "lock/small.bin", Buffer.from("small\n"));
    const first = rsync(rw, ["-R", "--bwlimit=1000", big, rw.remote("./")]);
    await transferInProgress(join(rw.root, "lock"), "big.bin");

    const second = await rsync(rw, ["-R", small, rw.remote("./")]);

    expect(second.exitCode).toBe(12);
    expect(second.stderr).toContain(`rrsync error: ${LOCK_REFUSAL}`);
    expect((await first).exitCode).toBe(0);
    expect((await readFile(join(rw.root, "lock/big.bin"))).length).toBe(3 * 1024 * 1024);
  });

  it("refuses a connection when the pinned host key is another one", async () => {
    await rw.clearCommandLog();
    const source = await stage("pin", "p/file", Buffer.from("p\n"));
    const wrongPin = rw.rsyncSshCommand({ pinnedHostKey: rw.otherHostKey });

    const result = await rsync(rw, ["-R", source, rw.remote("./")], wrongPin);

    // ssh exits 255; rsync passes that on or, when it sees the closed pipe first, reports
    // a broken protocol stream (12, the lock's code too): only stderr tells them apart.
    expect([12, 255]).toContain(result.exitCode);
    expect(result.stderr).toContain("Host key verification failed.");
    expect(await rw.commandLog()).toEqual([]);
  });
});

describe("startFiler (legacy Perl rrsync stand-in)", () => {
  it("refuses --mkpath with the old script's message", async () => {
    const source = await stage("legacy", "file", Buffer.from("l\n"));

    const result = await rsync(legacy, ["--mkpath", source, legacy.remote("m/n/")]);

    expect(result.exitCode).toBe(12);
    expect(result.stderr).toContain(LEGACY_REFUSAL);
    expect(await legacy.commandLog()).toEqual(["rsync --server -e.LsfxCIvu --mkpath . m/n/"]);
  });

  it("accepts a plain push with -R and a /./ anchor", async () => {
    await legacy.clearCommandLog();
    const bytes = randomBytes(16 * 1024);
    const source = await stage("legacy", "images/b/proj.sqsh", bytes);

    const result = await rsync(legacy, ["-a", "-R", source, legacy.remote("./")]);

    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(join(legacy.root, "images/b/proj.sqsh"))).toEqual(bytes);
    expect(await legacy.commandLog()).toEqual(["rsync --server -logDtprRe.iLsfxCIvu . ./"]);
  });

  it("refuses .. in a path", async () => {
    const source = await stage("legacy", "dots", Buffer.from("d\n"));

    const result = await rsync(legacy, [source, legacy.remote("a/../../escape")]);

    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("do not use ..");
  });

  it("takes no lock: a second push runs while the first is mid-transfer", async () => {
    const big = await stage("legacy-lock-src", "legacy-lock/big.bin", randomBytes(2 * 1024 * 1024));
    const small = await stage("legacy-lock-src", "legacy-lock/small.bin", Buffer.from("small\n"));
    const first = rsync(legacy, ["-R", "--bwlimit=1000", big, legacy.remote("./")]);
    await transferInProgress(join(legacy.root, "legacy-lock"), "big.bin");

    const second = await rsync(legacy, ["-R", small, legacy.remote("./")]);

    expect(second.exitCode, second.all).toBe(0);
    expect((await first).exitCode).toBe(0);
    expect((await readdir(join(legacy.root, "legacy-lock"))).sort()).toEqual(["big.bin", "small.bin"]);
  });
});

describe("mountImage", () => {
  it("mounts a squashfs image read-only at its prefix and unmounts it", async () => {
    const content = join(work, "image-content");
    await mkdir(join(content, "bin"), { recursive: true });
    await writeFile(join(content, "bin/greet"), "hello from the image\n");
    const image = join(work, "env.sqsh");
    await execa("mksquashfs", [content, image, "-noappend", "-quiet", "-no-progress"]);
    const prefix = join(work, "envs/proj-1.0.0");

    const mounted = await mountImage(image, prefix);
    try {
      expect(await isMountPoint(mounted.mountPoint)).toBe(true);
      expect(await readFile(join(prefix, "bin/greet"), "utf8")).toBe("hello from the image\n");
      await expect(writeFile(join(prefix, "new"), "x")).rejects.toThrow();
    } finally {
      await mounted.unmount();
    }

    expect(await isMountPoint(mounted.mountPoint)).toBe(false);
    expect(await readdir(prefix)).toEqual([]);
  });

  it("refuses to mount over a non-empty folder", async () => {
    const prefix = join(work, "occupied");
    await mkdir(prefix, { recursive: true });
    await writeFile(join(prefix, "keep"), "k");

    await expect(mountImage(join(work, "env.sqsh"), prefix)).rejects.toThrow(/not empty/);
  });
});
