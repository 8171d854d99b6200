import { describe, expect, it } from "vitest";
import { condaSquashEnvOps } from "../../../provider/conda-squash-env.ts";
import type { OpContext, Props } from "../../../provider/context.ts";
import { createProgress } from "../../../provider/progress.ts";
import { UNKNOWN } from "../../../provider/unknown.ts";

const ctx: OpContext = {
  label: "CondaSquashEnv env",
  progress: createProgress("x"),
  config: { get: () => undefined },
};

const base: Props = {
  btdName: "env",
  specs: ["meanrev=1.0.0", "python=3.11"],
  channels: ["file:///ch"],
  overrideChannels: true,
  prefix: "/opt/envs/meanrev-1.0.0-py311",
  installer: "/repo/bin/rattler-mamba",
  installerDialect: "mamba",
  smokeTest: ["python -c 'import meanrev'"],
  squashfs: { compression: "zstd", level: 15, blockSize: 1048576, mem: "512M" },
  keepLocalImage: true,
};
const olds: Props = {
  ...base,
  imagePath: "/w/meanrev-1.0.0-py311-0123456789ab.sqsh",
  sha256: "ab".repeat(32),
  sizeBytes: 1,
  lock: "@EXPLICIT\n",
  packages: [],
  installerVersion: "0.28.0",
  localImage: "present",
  schemaVersion: 1,
};

const diff = (news: Props) => condaSquashEnvOps.diff("id", olds, { ...base, ...news }, ctx);

describe("CondaSquashEnv diff", () => {
  it("reports nothing when nothing changed (outputs and the local image do not count)", async () => {
    expect(await diff({})).toEqual({ changes: false });
  });

  it("replaces on what is installed, channels and prefix; the same prefix deletes first", async () => {
    expect(await diff({ channels: ["file:///other"] })).toEqual({
      changes: true,
      replaces: ["channels"],
      deleteBeforeReplace: true,
    });
    expect(await diff({ overrideChannels: false })).toMatchObject({
      replaces: ["overrideChannels"],
      deleteBeforeReplace: true,
    });
    expect(
      await diff({ specs: ["meanrev=1.1.0", "python=3.11"], prefix: "/opt/envs/meanrev-1.1.0-py311" }),
    ).toEqual({
      changes: true,
      replaces: ["specs", "prefix"],
      deleteBeforeReplace: false,
    });
    expect(await diff({ installerDialect: "micromamba" })).toMatchObject({ replaces: ["installerDialect"] });
  });

  it("replaces on squash flags that change the bytes, updates on the others", async () => {
    const sq = base.squashfs as Props;
    expect(await diff({ squashfs: { ...sq, level: 19 } })).toMatchObject({
      replaces: ["squashfs"],
      deleteBeforeReplace: true,
    });
    expect(await diff({ squashfs: { ...sq, blockSize: 131072 } })).toMatchObject({ replaces: ["squashfs"] });
    expect(await diff({ squashfs: { ...sq, compression: "xz" } })).toMatchObject({ replaces: ["squashfs"] });
    expect(await diff({ squashfs: { ...sq, processors: 2, mem: "1G" } })).toEqual({ changes: true });
  });

  it("updates without rebuilding on smokeTest, keepLocalImage, workDir and another installer path", async () => {
    expect(await diff({ smokeTest: [] })).toEqual({ changes: true });
    expect(await diff({ keepLocalImage: false })).toEqual({ changes: true });
    expect(await diff({ workDir: "build" })).toEqual({ changes: true });
    expect(await diff({ installer: "/other/rattler-mamba" })).toEqual({ changes: true });
  });

  it("compares file inputs by content: a moved lock updates, a changed one replaces", async () => {
    const withLock = {
      ...olds,
      specs: undefined,
      lockFile: { path: "env/lock.txt", sha256: "a".repeat(64) },
    };
    const d = (lockFile: Props) =>
      condaSquashEnvOps.diff("id", withLock, { ...base, specs: undefined, lockFile }, ctx);
    expect(await d({ path: "env/lock.txt", sha256: "a".repeat(64) })).toEqual({ changes: false });
    expect(await d({ path: "ci/lock.txt", sha256: "a".repeat(64) })).toEqual({ changes: true });
    expect(await d({ path: "env/lock.txt", sha256: "b".repeat(64) })).toMatchObject({
      replaces: ["lockFile"],
      deleteBeforeReplace: true,
    });
  });

  it("shows the replace an unknown value may turn into", async () => {
    expect(await diff({ prefix: UNKNOWN })).toMatchObject({
      replaces: ["prefix"],
      deleteBeforeReplace: false,
    });
  });
});
