import { describe, expect, it } from "vitest";
import { parseHostKeyLine, splitHostKeys } from "../../../provider/filer/host-keys.ts";
import {
  isContentAddressed,
  renderRemotePath,
  validateRemotePath,
} from "../../../provider/filer/remote-path.ts";
import { isLockRefusal, RRSYNC_BUSY_RETRY, rsyncError } from "../../../provider/filer/rsync-errors.ts";
import { commandFromRshArgs, LineReader } from "../../../provider/filer/tunnel-frames.ts";

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtkz3MBsFhuCq0XlD4Fu0RirgTwV/a6qvPXMM6LM9M7";

describe("remote paths", () => {
  it.each([
    ["/abs/x", "absolute"],
    ["a/../b", '".."'],
    ["a\nb", "newline"],
    ["a\0b", "NUL"],
    ["a//b", "empty"],
    ["a b", "may only use"],
    ["a/{version}", "only {sha256}"],
    ["", "empty"],
  ])("refuses %j", (p, why) => expect(validateRemotePath(p)).toContain(why));
  it("renders the hash placeholders", () => {
    const sha = "ab".repeat(32);
    expect(validateRemotePath("envs/p-{sha12}.sqsh")).toBeUndefined();
    expect(isContentAddressed("envs/p-{sha12}.sqsh")).toBe(true);
    expect(renderRemotePath("e/{sha12}/{sha256}", sha)).toBe(`e/${sha.slice(0, 12)}/${sha}`);
  });
});

describe("host keys", () => {
  it("parses a key line and a known_hosts line to the ssh-keygen fingerprint", () => {
    const k = parseHostKeyLine(ED);
    expect(typeof k).toBe("object");
    expect((k as { fingerprint: string }).fingerprint).toBe(
      "SHA256:mWx4If6I+En9Ghm3FSXgMezxDbFBwN40dhBFsjnZ08E",
    );
    expect(parseHostKeyLine(`[127.0.0.1]:22 ${ED} comment`)).toEqual(k);
  });
  it("refuses malformed keys", () => {
    expect(parseHostKeyLine("ssh-ed25519 AAAA")).toContain("does not hold");
    expect(parseHostKeyLine("hello")).toContain("not a public host key");
    expect(splitHostKeys(`${ED}\n# c\n\n${ED}`)).toHaveLength(2);
  });
});

describe("shim handshake and rsync errors", () => {
  it("reads the shim handshake line split at any byte, and the remote command", () => {
    const r = new LineReader();
    const bytes = Buffer.from('{"token":"t"}\nrest');
    let got: { line: string; rest: Buffer } | undefined;
    for (const b of bytes) got ??= r.push(Buffer.from([b]));
    expect(got?.line).toBe('{"token":"t"}');
    expect(() => new LineReader(8).push(Buffer.alloc(9, 0x61))).toThrow(/too long/);
    expect(commandFromRshArgs(["-l", "u", "h", "rsync", "--server", "."])).toBe("rsync --server .");
  });
  it("retries only the lock refusal", () => {
    const lock = "/usr/bin/rrsync error: Another instance of rrsync is already accessing this directory.";
    expect(isLockRefusal(12, lock)).toBe(true);
    expect(isLockRefusal(1, lock)).toBe(false);
    const f = {
      args: ["--delete-missing-args"],
      resource: "FilerArtifact x",
      op: "delete",
      endpoint: "u@h:22",
    };
    expect(RRSYNC_BUSY_RETRY.classify(rsyncError({ ...f, exitCode: 12, stderr: lock })).retry).toBe(true);
    const noDel = rsyncError({
      ...f,
      exitCode: 12,
      stderr: "rrsync error: option --delete-missing-args has been disabled on this server.",
    });
    expect(noDel.code).toBe("BTD_FILER_NO_DELETE");
    expect(RRSYNC_BUSY_RETRY.classify(noDel).retry).toBe(false);
    expect(
      rsyncError({ ...f, exitCode: 12, stderr: "rrsync: invalid rsync-command syntax or options" }).message,
    ).toContain("rrsync-3.2.3.pl");
  });
});
