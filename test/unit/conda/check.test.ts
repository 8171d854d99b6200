import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { condaSquashEnvOps } from "../../../provider/conda-squash-env.ts";
import type { OpContext, Props } from "../../../provider/context.ts";
import { createProgress } from "../../../provider/progress.ts";
import { UNKNOWN } from "../../../provider/unknown.ts";

const ctx: OpContext = {
  label: "CondaSquashEnv env",
  progress: createProgress("CondaSquashEnv env"),
  config: { get: () => undefined },
};
const MD5 = "0123456789abcdef0123456789abcdef";
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "btd-conda-check-"));
  await writeFile(
    join(dir, "lock.txt"),
    `# platform: linux-64\n@EXPLICIT\nfile:///ch/linux-64/python-3.11.2-0_debian.tar.bz2#${MD5}\nfile:///ch/noarch/meanrev-1.0.0-py_0.tar.bz2#${MD5}\n`,
  );
  await writeFile(join(dir, "bad-lock.txt"), "python=3.11\nmeanrev=1.0.0\n");
  await writeFile(
    join(dir, "environment.yml"),
    "channels:\n  - file:///ch\ndependencies:\n  - python=3.11\n  - meanrev=1.1.0\n",
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function check(news: Props) {
  return condaSquashEnvOps.check({}, { btdName: "env", ...news }, ctx);
}

function failureOf(result: Awaited<ReturnType<typeof check>>, property: string): string {
  return (result.failures ?? [])
    .filter((f) => f.property === property)
    .map((f) => f.reason)
    .join(" | ");
}

describe("CondaSquashEnv check", () => {
  it("resolves defaults and derives the prefix from the specs", async () => {
    const r = await check({
      specs: ["meanrev=1.0.0", "python=3.11"],
      channels: ["file:///ch"],
      prefixRoot: "/srv/envs",
    });
    expect(r.failures).toBeUndefined();
    expect(r.inputs).toMatchObject({
      prefix: "/srv/envs/meanrev-1.0.0-py311",
      installer: "mamba",
      installerDialect: "mamba",
      overrideChannels: true,
      keepLocalImage: true,
      smokeTest: [],
      squashfs: { compression: "zstd", level: 15, blockSize: 1048576, mem: "512M" },
    });
    // Runner-dependent defaults stay out of state, so other runners see no diff.
    expect(r.inputs).not.toHaveProperty("workDir");
    expect(r.inputs?.squashfs).not.toHaveProperty("processors");
  });

  it("identifies a lock file by content hash and a path relative to the program folder", async () => {
    const previous = process.cwd();
    process.chdir(dir); // the provider's cwd is the program folder
    let r: Awaited<ReturnType<typeof check>>;
    try {
      r = await check({ lockFile: join(dir, "lock.txt"), prefixRoot: "/srv/envs" });
    } finally {
      process.chdir(previous);
    }
    expect(r.failures).toBeUndefined();
    const lock = r.inputs?.lockFile as { path: string; sha256: string };
    expect(lock.path).toBe("lock.txt");
    expect(lock.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.inputs).toMatchObject({ project: "meanrev", prefix: "/srv/envs/meanrev-1.0.0-py311" });
  });

  it("reads an environment file and names the prefix from it", async () => {
    const r = await check({ environmentFile: join(dir, "environment.yml"), prefixRoot: "/srv/envs" });
    expect(r.failures).toBeUndefined();
    expect(r.inputs?.prefix).toBe("/srv/envs/meanrev-1.1.0-py311");
  });

  it("fails on a missing environment or lock file, naming the property", async () => {
    expect(failureOf(await check({ environmentFile: "no/such/environment.yml" }), "environmentFile")).toMatch(
      /cannot be read \(ENOENT\)/,
    );
    expect(failureOf(await check({ lockFile: join(dir, "missing.txt") }), "lockFile")).toMatch(
      /cannot be read/,
    );
  });

  it("fails on a malformed lock with the line", async () => {
    expect(failureOf(await check({ lockFile: join(dir, "bad-lock.txt") }), "lockFile")).toMatch(
      /line 1: "python=3.11" comes before the @EXPLICIT/,
    );
  });

  it("fails on an unknown installer and on a path whose dialect cannot be told", async () => {
    expect(failureOf(await check({ specs: ["meanrev=1.0.0"], installer: "pip" }), "installer")).toMatch(
      /one of "mamba", "micromamba", "conda" or an absolute path/,
    );
    expect(
      failureOf(
        await check({ specs: ["meanrev=1.0.0"], installer: "/x/bin/rattler-mamba" }),
        "installerDialect",
      ),
    ).toMatch(/set installerDialect/);
    const ok = await check({
      specs: ["meanrev=1.0.0"],
      installer: "/x/bin/rattler-mamba",
      installerDialect: "mamba",
    });
    expect(ok.inputs).toMatchObject({ installer: "/x/bin/rattler-mamba", installerDialect: "mamba" });
  });

  it("fails on a relative or too long prefix, saying the bound", async () => {
    expect(failureOf(await check({ specs: ["meanrev=1.0.0"], prefix: "envs/x" }), "prefix")).toMatch(
      /absolute/,
    );
    expect(
      failureOf(await check({ specs: ["meanrev=1.0.0"], prefix: `/opt/${"p".repeat(300)}` }), "prefix"),
    ).toMatch(/at most 255 bytes/);
  });

  it("fails when nothing or too much is asked to install, or the version is not pinned", async () => {
    expect(failureOf(await check({}), "specs")).toMatch(/one of specs, environmentFile or lockFile/);
    expect(failureOf(await check({ specs: ["a=1"], lockFile: join(dir, "lock.txt") }), "specs")).toMatch(
      /only one/,
    );
    expect(failureOf(await check({ specs: ["meanrev"] }), "prefix")).toMatch(
      /version of meanrev is not pinned/,
    );
  });

  it("refuses credentials in channel URLs and bad squash flags", async () => {
    const r = await check({
      specs: ["meanrev=1.0.0"],
      channels: ["https://h.example/t/secret-token-1/main"],
      squashfs: { compression: "xz", level: 5, blockSize: 1000, mem: "lots" },
    });
    expect(failureOf(r, "channels[0]")).toMatch(/channelCredentials/);
    expect(failureOf(r, "channels[0]")).not.toContain("secret-token-1");
    expect(failureOf(r, "squashfs.level")).toMatch(/not supported with xz/);
    expect(failureOf(r, "squashfs.blockSize")).toMatch(/power of two/);
    expect(failureOf(r, "squashfs.mem")).toMatch(/512M/);
  });

  it("passes unknown values through in preview", async () => {
    const r = await check({ specs: ["meanrev=1.0.0"], prefix: UNKNOWN });
    expect(r.failures).toBeUndefined();
    expect(r.inputs?.prefix).toBe(UNKNOWN);
  });
});
