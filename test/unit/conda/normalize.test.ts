import { describe, expect, it } from "vitest";
import {
  HISTORY_EPOCH_HEADER,
  normalizeHistory,
  normalizeRecord,
} from "../../../provider/conda/normalize.ts";

describe("normalising what the installer writes", () => {
  it("fixes history dates and drops the command line with its temp paths", () => {
    const text =
      "==> 2025-12-03 16:54:01 <==\n# cmd: mamba create -p /opt/envs/x --file /tmp/w1/lock.txt\n+file:///ch/noarch/meanrev-1.0.0-py_0.tar.bz2\n";
    expect(normalizeHistory(text)).toBe(
      `${HISTORY_EPOCH_HEADER}\n+file:///ch/noarch/meanrev-1.0.0-py_0.tar.bz2\n`,
    );
  });

  it("removes package-cache paths from conda-meta records and leaves other records alone", () => {
    const record = {
      name: "meanrev",
      extracted_package_dir: "/w1/pkgs/meanrev",
      package_tarball_full_path: "/w1/pkgs/m.tar.bz2",
      link: { source: "/w1/pkgs/meanrev", type: 1 },
    };
    expect(JSON.parse(normalizeRecord(JSON.stringify(record)) as string)).toEqual({
      name: "meanrev",
      link: { type: 1 },
    });
    expect(normalizeRecord(JSON.stringify({ name: "python" }))).toBeUndefined();
  });
});
