import { describe, expect, it } from "vitest";
import { jobUrlPath, parseJobPath, validateJobName } from "../../../provider/jenkins/names.ts";

describe("parseJobPath", () => {
  it("splits folders and name", () => {
    expect(parseJobPath("team/backtests/nightly")).toEqual({
      ok: true,
      path: { folders: ["team", "backtests"], name: "nightly" },
    });
    expect(parseJobPath("deploy")).toEqual({ ok: true, path: { folders: [], name: "deploy" } });
  });
  it("names the bad segment", () => {
    const r = parseJobPath("team//x");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reasons[0]).toMatch(/segment 2 .*empty/);
  });
});

describe("validateJobName follows Jenkins' name check", () => {
  for (const bad of [
    "",
    ".",
    "..",
    "a?b",
    "a*b",
    "a\\b",
    "a%b",
    "a!b",
    "a@b",
    "a#b",
    "a$b",
    "a^b",
    "a&b",
    "a|b",
    "a<b",
    "a>b",
    "a[b",
    "a]b",
    "a:b",
    "a;b",
    "ends.",
    "tab\tx",
    "nul\u0000",
    "del\u007f",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => expect(validateJobName(bad)).toBeDefined());
  }
  for (const good of ["nightly", "back-tests_1.0", "café", "with space", "a.b"]) {
    it(`accepts ${JSON.stringify(good)}`, () => expect(validateJobName(good)).toBeUndefined());
  }
});

it("jobUrlPath encodes each segment", () => {
  expect(jobUrlPath(["team", "café x"])).toBe("job/team/job/caf%C3%A9%20x/");
});
