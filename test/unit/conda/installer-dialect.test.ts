import { describe, expect, it } from "vitest";
import {
  createFromEnvFileArgs,
  createFromLockArgs,
  createFromSpecsArgs,
  dialectOfPath,
  exportLockArgs,
  installerEnv,
  listJsonArgs,
  parseInstallerVersion,
} from "../../../provider/conda/installer-dialect.ts";

const P = "/opt/envs/meanrev-1.0.0-py311";

describe("installer command lines", () => {
  it("creates from specs with the same flags in every dialect (conda create docs: -y -p -c --override-channels)", () => {
    for (const d of ["mamba", "micromamba", "conda"] as const) {
      expect(
        createFromSpecsArgs(d, {
          prefix: P,
          specs: ["meanrev=1.0.0", "python=3.11"],
          channels: ["file:///ch", "extra"],
          overrideChannels: true,
        }),
      ).toEqual([
        "create",
        "-y",
        "-p",
        P,
        "-c",
        "file:///ch",
        "-c",
        "extra",
        "--override-channels",
        "meanrev=1.0.0",
        "python=3.11",
      ]);
    }
    expect(
      createFromSpecsArgs("mamba", { prefix: P, specs: ["x=1"], channels: [], overrideChannels: false }),
    ).toEqual(["create", "-y", "-p", P, "x=1"]);
  });

  it("installs an environment file through `env create` for conda and mamba, `create -f` for micromamba", () => {
    const c = { prefix: P, file: "/w/environment.yml", channels: [], overrideChannels: false };
    expect(createFromEnvFileArgs("conda", c)).toEqual([
      "env",
      "create",
      "-y",
      "-p",
      P,
      "-f",
      "/w/environment.yml",
    ]);
    expect(createFromEnvFileArgs("mamba", c)).toEqual([
      "env",
      "create",
      "-y",
      "-p",
      P,
      "-f",
      "/w/environment.yml",
    ]);
    expect(createFromEnvFileArgs("micromamba", c)).toEqual([
      "create",
      "-y",
      "-p",
      P,
      "-f",
      "/w/environment.yml",
    ]);
  });

  it("installs an explicit lock with --file (conda, mamba) or -f (micromamba), without channels", () => {
    expect(createFromLockArgs("conda", { prefix: P, file: "/w/lock.txt" })).toEqual([
      "create",
      "-y",
      "-p",
      P,
      "--file",
      "/w/lock.txt",
    ]);
    expect(createFromLockArgs("mamba", { prefix: P, file: "/w/lock.txt" })).toEqual([
      "create",
      "-y",
      "-p",
      P,
      "--file",
      "/w/lock.txt",
    ]);
    expect(createFromLockArgs("micromamba", { prefix: P, file: "/w/lock.txt" })).toEqual([
      "create",
      "-y",
      "-p",
      P,
      "-f",
      "/w/lock.txt",
    ]);
  });

  it("exports the lock with `list --explicit --md5`, except micromamba's `env export --explicit --md5`", () => {
    expect(exportLockArgs("conda", P)).toEqual(["list", "-p", P, "--explicit", "--md5"]);
    expect(exportLockArgs("mamba", P)).toEqual(["list", "-p", P, "--explicit", "--md5"]);
    expect(exportLockArgs("micromamba", P)).toEqual(["env", "export", "-p", P, "--explicit", "--md5"]);
    expect(listJsonArgs("micromamba", P)).toEqual(["list", "-p", P, "--json"]);
  });

  it("tells the dialect from the installer's file name", () => {
    expect(dialectOfPath("/usr/local/bin/micromamba")).toBe("micromamba");
    expect(dialectOfPath("/opt/miniforge/bin/mamba")).toBe("mamba");
    expect(dialectOfPath("/opt/conda/bin/conda")).toBe("conda");
    expect(dialectOfPath("/repo/test/support/conda/bin/rattler-mamba")).toBeUndefined();
  });

  it("reads the installer's own version from --version", () => {
    expect(parseInstallerVersion("conda 24.1.2\n")).toBe("24.1.2");
    expect(parseInstallerVersion("mamba 1.5.8\nconda 23.11.0\n")).toBe("1.5.8");
    expect(parseInstallerVersion("2.0.5\n")).toBe("2.0.5");
  });

  it("pins the package cache and copies instead of linking, with MAMBA_* only for the mamba family", () => {
    expect(installerEnv("conda", "/w/pkgs", "/w/root")).not.toHaveProperty("MAMBA_ROOT_PREFIX");
    expect(installerEnv("micromamba", "/w/pkgs", "/w/root")).toMatchObject({
      CONDA_PKGS_DIRS: "/w/pkgs",
      MAMBA_ROOT_PREFIX: "/w/root",
      MAMBA_ALWAYS_COPY: "true",
    });
  });
});
