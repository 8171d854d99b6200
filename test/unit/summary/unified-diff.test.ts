import { describe, expect, it } from "vitest";
import { diffLines, unifiedDiff } from "../../../provider/summary/unified-diff.ts";

/** Applies a unified diff to a text that ends with a newline: the round trip proves the hunks right. */
function applyPatch(oldText: string, patch: string): string {
  const old = oldText.split("\n").slice(0, -1);
  const lines = patch.split("\n").slice(2, -1);
  const out: string[] = [];
  let at = 0;
  let noEol = false;
  for (const [i, line] of lines.entries()) {
    const h = line.match(/^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/);
    if (h) {
      const start = Number(h[1]) - (h[2] === "0" ? 0 : 1);
      while (at < start) out.push(old[at++] as string);
    } else if (line.startsWith("\\")) {
      noEol ||= !lines[i - 1]?.startsWith("-");
    } else {
      if (!line.startsWith("+")) at++;
      if (!line.startsWith("-")) out.push(line.slice(1));
    }
  }
  while (at < old.length) out.push(old[at++] as string);
  return out
    .map((l) => `${l}\n`)
    .join("")
    .slice(0, noEol ? -1 : undefined);
}

const letters = "abcdefghijklm"
  .split("")
  .map((c) => `${c}\n`)
  .join("");

describe("unifiedDiff", () => {
  it("prints GNU diff -u hunks with 3 lines of context, and no-newline markers", () => {
    const next = letters.replace("b\n", "B\n").concat("n");
    // Expected text is what `diff -u --label old --label new` prints for these inputs.
    expect(unifiedDiff(letters, next, { oldLabel: "old", newLabel: "new" })).toBe(
      [
        "--- old",
        "+++ new",
        "@@ -1,5 +1,5 @@",
        " a",
        "-b",
        "+B",
        " c",
        " d",
        " e",
        "@@ -11,3 +11,4 @@",
        " k",
        " l",
        " m",
        "+n",
        "\\ No newline at end of file",
        "",
      ].join("\n"),
    );
  });

  it("diffs against an empty file with a 0,0 range", () => {
    expect(unifiedDiff("", "x\ny\n", { oldLabel: "/dev/null", newLabel: "b" })).toBe(
      "--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n",
    );
  });

  it("is empty for equal texts", () => {
    expect(unifiedDiff(letters, letters, { oldLabel: "a", newLabel: "b" })).toBe("");
  });

  it("finds a shortest edit script", () => {
    const edits = diffLines(["a", "b", "c", "a", "b", "b", "a"], ["c", "b", "a", "b", "a", "c"]);
    expect(edits.filter((e) => e.op !== "=").length).toBe(5);
    expect(edits.filter((e) => e.op !== "+").map((e) => e.text)).toEqual(["a", "b", "c", "a", "b", "b", "a"]);
    expect(edits.filter((e) => e.op !== "-").map((e) => e.text)).toEqual(["c", "b", "a", "b", "a", "c"]);
  });

  it("round-trips: applying the diff to the old text gives the new one", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const old = Array.from({ length: rand(30) }, () => `line ${rand(8)}`);
      const next = old.flatMap((l) => {
        const r = rand(10);
        if (r === 0) return [];
        if (r === 1) return [l, `new ${rand(5)}`];
        if (r === 2) return [`changed ${rand(5)}`];
        return [l];
      });
      const oldText = old.map((l) => `${l}\n`).join("");
      const newText = next.map((l) => `${l}\n`).join("") + (rand(4) === 0 ? "tail" : "");
      const patch = unifiedDiff(oldText, newText, { oldLabel: "a", newLabel: "b" });
      if (oldText === newText) expect(patch).toBe("");
      else expect(applyPatch(oldText, patch)).toBe(newText);
    }
  });
});
