import { describe, expect, it } from "vitest";
import { hasCode } from "../../../provider/errors.ts";
import { matchesExpected, resolveExpectedHash, sha12OfName } from "../../../provider/mount/expected-hash.ts";
import { type Holder, parseState, pruneHolders, withoutHelper } from "../../../provider/mount/holders.ts";
import { parseMountInfo } from "../../../provider/mount/mount-table.ts";
import { DEFAULT_STATE_DIR, parseMountArgs } from "../../../provider/mount/options.ts";
import { envInside } from "../../../provider/mount/run-inside.ts";

const IMAGE = "/filer/envs/a/meanrev-1.0.0-py311-0123456789ab.sqsh";
const SHA = `0123456789ab${"c".repeat(52)}`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("parseMountArgs", () => {
  it("splits flags from the command at --", () => {
    const o = parseMountArgs(
      ["--image", IMAGE, "--prefix", "/opt/envs/m/", "--", "python", "--prefix", "x"],
      {},
    );
    expect(o).toEqual({
      kind: "run",
      image: IMAGE,
      prefix: "/opt/envs/m",
      stateDir: DEFAULT_STATE_DIR,
      verbose: false,
      command: ["python", "--prefix", "x"],
    });
  });

  it("takes the state folder from the flag, then the environment", () => {
    const args = ["--image", IMAGE, "--prefix", "/opt/e", "--", "true"];
    expect(parseMountArgs(args, { BTD_MOUNT_STATE_DIR: "/var/btd" })).toMatchObject({ stateDir: "/var/btd" });
    expect(parseMountArgs(["--state-dir=/s", ...args], { BTD_MOUNT_STATE_DIR: "/var/btd" })).toMatchObject({
      stateDir: "/s",
    });
    expect(parseMountArgs(["--gc"], {})).toEqual({ kind: "gc", stateDir: DEFAULT_STATE_DIR, verbose: false });
  });

  it.each([
    [["--prefix", "/opt/e", "--", "true"], "--image is required"],
    [["--image", IMAGE, "--", "true"], "--prefix is required"],
    [["--image", IMAGE, "--prefix", "/opt/e"], "no command"],
    [["--image", IMAGE, "--prefix", "opt/e", "--", "true"], "absolute"],
    [["--image", IMAGE, "--prefix", "/opt/e", "--sha256", "abc", "--", "true"], "64 hex"],
    [["--image", IMAGE, "--prefix", "/opt/e", "--bogus", "--", "true"], 'unknown argument "--bogus"'],
    [["--gc", "--image", IMAGE], "--gc takes no"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseMountArgs(argv, {})).toThrow(message);
    expect(codeOf(() => parseMountArgs(argv, {}))).toBe("BTD_MOUNT_USAGE");
  });
});

describe("expected hash", () => {
  it("comes from the content-addressed name, or --sha256 which must agree with it", () => {
    expect(sha12OfName(IMAGE)).toBe("0123456789ab");
    expect(sha12OfName("/f/meanrev-1.0.0.sqsh")).toBeUndefined();
    expect(resolveExpectedHash(IMAGE, undefined).hex).toBe("0123456789ab");
    expect(resolveExpectedHash(IMAGE, SHA).hex).toBe(SHA);
    expect(codeOf(() => resolveExpectedHash(IMAGE, "f".repeat(64)))).toBe("BTD_MOUNT_HASH_CONFLICT");
    expect(codeOf(() => resolveExpectedHash("/f/env.sqsh", undefined))).toBe("BTD_MOUNT_NO_EXPECTED_HASH");
  });

  it("matches a full hash by prefix only when it starts with the expected digits", () => {
    const e = resolveExpectedHash(IMAGE, undefined);
    expect(matchesExpected(SHA, e)).toBe(true);
    expect(matchesExpected(`f${SHA.slice(1)}`, e)).toBe(false);
  });

  it("errors carry their code in the message", () => {
    try {
      resolveExpectedHash("/f/env.sqsh", undefined);
    } catch (err) {
      expect(hasCode(err, "BTD_MOUNT_NO_EXPECTED_HASH")).toBe(true);
      expect((err as Error).message).toMatch(/Fix: .*\[BTD_MOUNT_NO_EXPECTED_HASH\]$/);
    }
  });
});

describe("holders", () => {
  const h = (pid: number, start: string, command?: [number, string]): Holder => ({
    helper: { pid, start },
    uid: 0,
    since: "t",
    ...(command ? { command: { pid: command[0], start: command[1] } } : {}),
  });
  const alive = new Set(["1:a", "3:c", "9:z"]);
  const running = (id: { pid: number; start: string }) => alive.has(`${id.pid}:${id.start}`);

  it("prunes holders whose helper and command are both gone, keeps one whose command still runs", () => {
    const state = {
      ...parseState(undefined, "/p"),
      holders: [h(1, "a"), h(2, "b"), h(4, "d", [9, "z"]), h(3, "x")],
    };
    const { state: next, pruned } = pruneHolders(state, running);
    expect(next.holders.map((x) => x.helper.pid)).toEqual([1, 4]);
    // pid 3 runs, but started at another time: a reused PID is not our holder.
    expect(pruned.map((x) => x.helper.pid)).toEqual([2, 3]);
  });

  it("removes only the leaving helper", () => {
    const state = { ...parseState(undefined, "/p"), holders: [h(1, "a"), h(1, "b")] };
    expect(withoutHelper(state, { pid: 1, start: "a" }).holders).toEqual([h(1, "b")]);
  });

  it("treats an unreadable or foreign-version state as empty", () => {
    expect(parseState("{not json", "/p")).toEqual({ version: 1, prefix: "/p", holders: [] });
    expect(parseState('{"version":99,"holders":[]}', "/p").version).toBe(1);
  });
});

describe("parseMountInfo", () => {
  it("reads mount point, type and source, unescaping spaces", () => {
    const text =
      "36 35 98:0 / /mnt\\040a rw,noatime master:1 - ext3 /dev/root rw\n" +
      "90 29 0:52 / /opt/envs/m-1.0 ro,nosuid,nodev,relatime shared:300 - fuse.squashfuse squashfuse ro,user_id=0\n";
    expect(parseMountInfo(text)).toEqual([
      { mountPoint: "/mnt a", fsType: "ext3", source: "/dev/root" },
      { mountPoint: "/opt/envs/m-1.0", fsType: "fuse.squashfuse", source: "squashfuse" },
    ]);
  });
});

describe("envInside", () => {
  it("puts the env's bin first on PATH and sets CONDA_PREFIX", () => {
    const env = envInside("/opt/envs/m", { PATH: "/usr/bin:/bin", HOME: "/h" });
    expect(env.PATH).toBe("/opt/envs/m/bin:/usr/bin:/bin");
    expect(env.CONDA_PREFIX).toBe("/opt/envs/m");
    expect(env.HOME).toBe("/h");
  });
});
