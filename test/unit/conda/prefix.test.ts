import { describe, expect, it } from "vitest";
import {
  dependenciesOfEnvFile,
  derivePrefix,
  identityFromSpecs,
  MAX_PREFIX_LENGTH,
  parseSpec,
  validatePrefix,
} from "../../../provider/conda/prefix.ts";

describe("prefix validation", () => {
  it("accepts an absolute, normalised prefix of its own", () => {
    expect(validatePrefix("/opt/envs/meanrev-1.0.0-py311")).toEqual([]);
  });

  it("refuses a relative prefix", () => {
    expect(validatePrefix("envs/meanrev")[0]).toMatch(/absolute path/);
  });

  it("refuses a prefix longer than the 255-byte placeholder and says the bound", () => {
    const long = `/opt/${"x".repeat(MAX_PREFIX_LENGTH)}`;
    const reasons = validatePrefix(long);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/at most 255 bytes/);
    expect(validatePrefix(`/${"x".repeat(254)}`)).toEqual([]);
  });

  it("refuses unnormalised paths, unsafe characters and system folders", () => {
    expect(validatePrefix("/opt/envs/../x")[0]).toMatch(/normalised/);
    expect(validatePrefix("/opt/envs/x/")[0]).toMatch(/normalised/);
    expect(validatePrefix("/opt/my envs/x")[0]).toMatch(/may only use/);
    expect(validatePrefix("/usr")[0]).toMatch(/system folder/);
  });
});

describe("env identity", () => {
  it("reads name and pinned version from the usual spec spellings", () => {
    expect(parseSpec("meanrev=1.0.0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("meanrev==1.0.0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("meanrev 1.0.0 py_0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("conda-forge::meanrev=1.0.0=py_0")).toEqual({ name: "meanrev", version: "1.0.0" });
    expect(parseSpec("python=3.11.*")).toEqual({ name: "python", version: "3.11" });
    expect(parseSpec("meanrev>=1.0")).toEqual({ name: "meanrev", version: undefined });
  });

  it("derives <root>/<project>-<version>-py<XY>", () => {
    const id = identityFromSpecs(["python=3.11", "meanrev=1.0.0"]);
    expect(id).toEqual({ name: "meanrev", version: "1.0.0", pythonTag: "311" });
    expect(derivePrefix("/opt/envs", id as NonNullable<typeof id>)).toBe("/opt/envs/meanrev-1.0.0-py311");
  });

  it("reads dependencies of an environment.yml, skipping the pip list", () => {
    const yml =
      "name: x\nchannels:\n  - file:///ch\ndependencies:\n  - python=3.11\n  - meanrev=1.1.0  # the project\n  - pip:\n    - requests\n";
    expect(dependenciesOfEnvFile(yml)).toEqual(["python=3.11", "meanrev=1.1.0"]);
  });
});
