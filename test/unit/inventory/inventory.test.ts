import { describe, expect, it } from "vitest";
import { parseInventoryArgs } from "../../../provider/inventory/main.ts";
import { ARTIFACT_TYPE, collectOwned, LINK_TYPE } from "../../../provider/inventory/owned.ts";
import {
  buildInventory,
  missingOwned,
  normalizeFolder,
  planFolders,
} from "../../../provider/inventory/report.ts";

const account = { host: "filer", port: 22, user: "deploy", hostKeys: ["ssh-ed25519 AAAA"] };
const SECRET = {
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  ciphertext: "v1:abc",
};

const exported = {
  version: 3,
  deployment: {
    resources: [
      { urn: "urn:pulumi:a::p::pulumi:pulumi:Stack::p-a", type: "pulumi:pulumi:Stack" },
      {
        urn: "urn:pulumi:a::p::pulumi-nodejs:dynamic/backtest:FilerArtifact::image",
        type: ARTIFACT_TYPE,
        outputs: {
          ...account,
          privateKey: SECRET,
          remotePath: "envs/a/m-1.1.0.sqsh",
          retained: [{ remotePath: "envs/a/m-1.0.0.sqsh", sha256: "x", sizeBytes: 1 }],
        },
      },
      {
        urn: "urn:pulumi:live::p::pulumi-nodejs:dynamic/backtest:FilerLink::current",
        type: LINK_TYPE,
        outputs: { ...account, linkPath: "envs/current", target: "a/m-1.1.0.sqsh" },
      },
    ],
    pending_operations: [
      {
        type: "creating",
        resource: {
          urn: "urn:pulumi:a::p::pulumi-nodejs:dynamic/backtest:FilerArtifact::extra",
          type: ARTIFACT_TYPE,
          inputs: { ...account, remotePath: "envs/a/extra.sqsh" },
        },
      },
    ],
  },
};

describe("collectOwned", () => {
  it("collects current, retained, link and pending paths with their resource", () => {
    const owned = collectOwned("org/p/a", exported);
    expect(owned.map((o) => [o.path, o.role, o.resource])).toEqual([
      ["envs/a/m-1.1.0.sqsh", "current", "FilerArtifact image"],
      ["envs/a/m-1.0.0.sqsh", "retained", "FilerArtifact image"],
      ["envs/current", "link", "FilerLink current"],
      ["envs/a/extra.sqsh", "pending", "FilerArtifact extra"],
    ]);
    expect(owned.every((o) => o.stack === "org/p/a" && o.account.host === "filer")).toBe(true);
  });

  it("ignores resources without a plain endpoint and non-deployments", () => {
    expect(
      collectOwned("s", {
        deployment: {
          resources: [{ type: ARTIFACT_TYPE, urn: "u", outputs: { remotePath: "x", host: SECRET } }],
        },
      }),
    ).toEqual([]);
    expect(collectOwned("s", null)).toEqual([]);
  });
});

describe("inventory report", () => {
  const owned = collectOwned("org/p/a", exported);
  const listing = {
    account,
    folder: "envs/a",
    entries: new Map([
      ["m-1.1.0.sqsh", { kind: "file" as const, size: 10 }],
      ["stray.sqsh", { kind: "file" as const, size: 3 }],
      [".m-1.2.0.sqsh.AbC123", { kind: "file" as const, size: 5 }],
    ]),
  };

  it("lists the parent folder of every owned path by default, or the given folders", () => {
    expect([...planFolders(owned, []).values()].map((p) => p.folders)).toEqual([["envs", "envs/a"]]);
    expect([...planFolders(owned, ["x"]).values()].map((p) => p.folders)).toEqual([["x"]]);
  });

  it("flags files no stack owns, rsync temp files included", () => {
    const rows = buildInventory(owned, [listing]);
    expect(rows.map((r) => [r.path, r.orphan])).toEqual([
      ["envs/a/.m-1.2.0.sqsh.AbC123", true],
      ["envs/a/m-1.1.0.sqsh", false],
      ["envs/a/stray.sqsh", true],
    ]);
  });

  it("reports owned files that are missing, but not pending creates", () => {
    expect(missingOwned(owned, [listing]).map((o) => o.path)).toEqual(["envs/a/m-1.0.0.sqsh"]);
  });

  it("normalizes folders and refuses escapes", () => {
    expect(normalizeFolder("./envs/a/")).toBe("envs/a");
    expect(normalizeFolder("/")).toBe(".");
    expect(normalizeFolder("envs/../..")).toBeUndefined();
  });
});

describe("parseInventoryArgs", () => {
  it("parses folders, key file and the delete flags", () => {
    expect(
      parseInventoryArgs([
        "--folder",
        "envs/a/",
        "--folder=envs/b",
        "--key-file",
        "k",
        "--delete-orphans",
        "--yes",
      ]),
    ).toEqual({
      folders: ["envs/a", "envs/b"],
      keyFile: "k",
      deleteOrphans: true,
      yes: true,
    });
  });

  it("names a bad argument", () => {
    expect(() => parseInventoryArgs(["--frobnicate"])).toThrow(/unknown argument "--frobnicate"/);
    expect(() => parseInventoryArgs(["--folder", "../x"])).toThrow(/--folder must be a path inside/);
    expect(() => parseInventoryArgs(["--key-file"])).toThrow(/--key-file needs a value/);
  });
});
