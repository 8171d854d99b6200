import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  contentChanges,
  deleteArgs,
  dirModeFor,
  linkArgs,
  listArgs,
  parseBytesSent,
  parseListing,
  parseProgress,
  pushArgs,
} from "../../../provider/filer/rsync-args.ts";
import { FORBIDDEN, LONG_OPTIONS, parseCompatDoc, SHORT_LETTERS } from "./rrsync-whitelist.ts";

// Client-side only: rsync does not send these to the server (the integration
// tests assert on what the server actually received).
const CLIENT_ONLY = ["chmod", "copy-links", "dry-run", "itemize-changes", "checksum", "dirs"];

const knobs = { timeoutSeconds: 60, bwlimitKiB: 100 };
const every: string[][] = [
  ...[true, false].flatMap((folder) =>
    [true, false].flatMap((dryRun) =>
      [true, false].map((fuzzy) =>
        pushArgs({
          stageDir: "/s",
          relPath: "a/b",
          folder,
          mode: "0644",
          checksum: true,
          fuzzy,
          dryRun,
          ...knobs,
        }),
      ),
    ),
  ),
  deleteArgs({ emptyDir: "/e", relPaths: ["a/b", "c"], ...knobs }),
  listArgs("a/", knobs),
  linkArgs({ stageDir: "/s", relPath: "current", ...knobs }),
];

describe("rsync command lines", () => {
  const compat = join(import.meta.dirname, "../../../../shared/rrsync-compat.md");
  it.skipIf(!existsSync(compat))("the embedded whitelist matches shared/rrsync-compat.md", () => {
    const doc = parseCompatDoc(readFileSync(compat, "utf8"));
    expect([...LONG_OPTIONS].sort()).toEqual([...doc.long].sort());
    expect(SHORT_LETTERS).toBe(doc.short);
  });

  it.each(every.map((a) => [a.join(" ")]))("uses only options both rrsync versions accept: %s", (line) => {
    const args = line.split(" ");
    for (const a of args.filter((w) => w.startsWith("--"))) {
      const name = a.slice(2).split("=")[0] as string;
      if (name === "info" || name === "stats") continue; // whitelisted, and client-side anyway
      expect(FORBIDDEN, a).not.toContain(name);
      expect(LONG_OPTIONS.includes(name) || CLIENT_ONLY.includes(name), a).toBe(true);
    }
    for (const a of args.filter((w) => /^-[^-]/.test(w))) {
      for (const c of a.slice(1)) expect(SHORT_LETTERS, a).toContain(c);
    }
    expect(args).toContain("--timeout=60");
    expect(args.some((a) => a.startsWith("--mkpath") || a === "--inplace")).toBe(false);
  });

  it("anchors missing parents with -R and /./, relative destinations only", () => {
    const a = pushArgs({
      stageDir: "/s",
      relPath: "envs/x.sqsh",
      folder: false,
      mode: "0444",
      checksum: true,
      fuzzy: true,
      dryRun: false,
      timeoutSeconds: 5,
    });
    expect(a).toContain("-R");
    expect(a.at(-2)).toBe("/s/./envs/x.sqsh");
    expect(a.at(-1)).toBe("filer:./");
    expect(a).toContain("--chmod=F0444,D0555");
    const folder = pushArgs({
      stageDir: "/s",
      relPath: "envs/x",
      folder: true,
      mode: "0644",
      checksum: true,
      fuzzy: false,
      dryRun: false,
      timeoutSeconds: 5,
    });
    expect(folder.at(-2)).toBe("/s/./envs/x/");
    expect(dirModeFor("0640")).toBe("0750");
  });

  it("parses listings, itemized changes, progress and stats", () => {
    const listing = [
      "drwxr-xr-x          4,096 2026/12/03 16:45:27 .",
      "-rw-r--r--    209,715,200 2026/12/03 16:48:59 big.bin",
      "lrwxrwxrwx             10 2026/12/03 16:48:59 current -> a/env.sqsh",
    ].join("\n");
    expect(parseListing(listing)).toEqual([
      { kind: "dir", size: 4096, name: "." },
      { kind: "file", size: 209715200, name: "big.bin" },
      { kind: "link", size: 10, name: "current", target: "a/env.sqsh" },
    ]);
    expect(contentChanges(".d..t...... ./\n>f+++++++++ envs/x\n.f..t...... envs/y\n")).toEqual([
      ">f+++++++++ envs/x",
    ]);
    expect(parseProgress("\r  1,048,576  50%   10.50MB/s    0:00:01\r  2,097,152 100%  11.00MB/s")).toEqual({
      bytes: 2097152,
      percent: 100,
      rate: "11.00MB/s",
    });
    expect(parseBytesSent("Total bytes sent: 1,234\n")).toBe(1234);
  });
});
