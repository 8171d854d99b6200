import { describe, expect, it } from "vitest";
import {
  canonicalLock,
  parseExplicitLock,
  stripLockCredentials,
  urlCredentials,
  withToken,
} from "../../../provider/conda/lock.ts";

const MD5 = "0123456789abcdef0123456789abcdef";
const LOCK = `# This file may be used to create an environment using:
# $ conda create --name <env> --file <this file>
# platform: linux-64
@EXPLICIT
file:///srv/channel/linux-64/python-3.11.2-0_debian.tar.bz2#${MD5}
file:///srv/channel/noarch/meanrev-1.0.0-py_0.tar.bz2#${MD5}
https://conda.example.com/main/noarch/prefix-probe-1.0.0-0.conda#sha256:${"ab".repeat(32)}
`;

describe("explicit locks", () => {
  it("parses names, versions, builds, subdirs and hashes", () => {
    const { lock, problems } = parseExplicitLock(LOCK);
    expect(problems).toEqual([]);
    expect(lock.platform).toBe("linux-64");
    expect(lock.packages.map((p) => [p.name, p.version, p.build, p.subdir, p.channel])).toEqual([
      ["python", "3.11.2", "0_debian", "linux-64", "file:///srv/channel"],
      ["meanrev", "1.0.0", "py_0", "noarch", "file:///srv/channel"],
      ["prefix-probe", "1.0.0", "0", "noarch", "https://conda.example.com/main"],
    ]);
  });

  it("reports every problem with its line", () => {
    const bad = `python=3.11\n@EXPLICIT\nfile:///c/noarch/a-1-0.tar.bz2\nnot a url#${MD5}\nfile:///c/noarch/b.zip#${MD5}\n`;
    const { problems } = parseExplicitLock(bad);
    expect(problems.map((p) => p.line)).toEqual([1, 3, 4, 5]);
    expect(problems[0]?.reason).toMatch(/before the @EXPLICIT/);
    expect(problems[1]?.reason).toMatch(/no #<md5> hash/);
  });

  it("rejects text without @EXPLICIT, an empty list and duplicate packages", () => {
    expect(parseExplicitLock("name: env\ndependencies: []\n").problems.at(-1)?.reason).toMatch(
      /no @EXPLICIT/,
    );
    expect(parseExplicitLock("@EXPLICIT\n").problems[0]?.reason).toMatch(/no packages/);
    const dup = `@EXPLICIT\nfile:///c/noarch/a-1-0.tar.bz2#${MD5}\nfile:///c/noarch/a-2-0.tar.bz2#${MD5}\n`;
    expect(parseExplicitLock(dup).problems[0]?.reason).toMatch(/a is listed 2 times/);
  });

  it("identifies a lock by its packages, not its comments", () => {
    const a = canonicalLock(parseExplicitLock(LOCK).lock);
    const b = canonicalLock(
      parseExplicitLock(
        LOCK.replace("# platform: linux-64", "# platform: linux-64\n# exported by someone else"),
      ).lock,
    );
    expect(a).toBe(b);
  });

  it("takes credentials out of recorded URLs and puts tokens in for the installer", () => {
    const text = `@EXPLICIT\nhttps://user:pw@h.example/t/tok-123456/main/noarch/a-1-0.tar.bz2#${MD5}\n`;
    expect(stripLockCredentials(text)).toBe(
      `@EXPLICIT\nhttps://h.example/main/noarch/a-1-0.tar.bz2#${MD5}\n`,
    );
    expect(urlCredentials("https://h.example/t/tok-123456/main")).toBe("tok-123456");
    expect(urlCredentials("https://h.example/main")).toBeUndefined();
    expect(withToken("https://h.example/main", "tok")).toBe("https://h.example/t/tok/main");
  });
});
