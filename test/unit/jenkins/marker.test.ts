import { describe, expect, it } from "vitest";
import { ownershipOf, readMarker, renderMarker, withMarker } from "../../../provider/jenkins/marker.ts";
import { parseOwners } from "../../../provider/jenkins/owners.ts";

const me = { project: "backtests", stack: "prod" };

describe("marker", () => {
  it("round-trips project and stack", () => {
    expect(readMarker(withMarker("<p>hi</p>\n", me))).toEqual(me);
    expect(withMarker("<p>hi</p>\n", me)).toBe(`<p>hi</p>\n${renderMarker(me)}`);
    expect(withMarker("", me)).toBe(renderMarker(me));
  });
  it("tells ours, unmarked and foreign apart", () => {
    expect(ownershipOf(withMarker("x", me), me)).toBe("ours");
    expect(ownershipOf("a job made by hand", me)).toBe("unmarked");
    expect(ownershipOf(undefined, me)).toBe("unmarked");
    // Another project's stack of the same name.
    expect(ownershipOf(withMarker("x", { project: "other", stack: "prod" }), me)).toBe("foreign");
    expect(ownershipOf(withMarker("x", { project: "backtests", stack: "staging" }), me)).toBe("foreign");
  });
  it("counts only a marker at the end of the description", () => {
    expect(readMarker(`${renderMarker(me)}\nedited below the marker`)).toBeUndefined();
  });
});

describe("parseOwners", () => {
  it("reads @owner annotations", () => {
    expect(
      parseOwners(
        "<p>x</p>\n@owner alice\n@owner: bob@example.com\n<li>@owners carol, dave</li> @owner alice",
      ),
    ).toEqual(["alice", "bob@example.com", "carol", "dave"]);
    expect(parseOwners("no owners here")).toEqual([]);
  });
});
