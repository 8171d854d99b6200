import { describe, expect, it } from "vitest";
import { BacktestDeployError, CommandError, hasCode, InputError } from "../../../provider/errors.ts";
import { KIND_NAMES, runOp } from "../../../provider/index.ts";
import { createProgress, setProgressSink } from "../../../provider/progress.ts";
import { redact, registerSecret } from "../../../provider/redact.ts";
import { withRetry } from "../../../provider/retry.ts";
import { envKey, resolveSetting } from "../../../provider/settings.ts";
import { isUnknown, UNKNOWN } from "../../../provider/unknown.ts";
import { Failures } from "../../../provider/validate.ts";

describe("errors", () => {
  const cases = [
    new BacktestDeployError({
      code: "BTD_X_Y",
      resource: "FilerArtifact image",
      op: "create",
      reason: "boom",
      hint: "retry",
    }),
    new InputError({ code: "BTD_INPUT_INVALID", property: "prefix", reason: "prefix must be absolute" }),
    new CommandError({
      code: "BTD_CMD_FAILED",
      reason: "rsync exited 12",
      command: "rsync -a",
      exitCode: 12,
    }),
  ];
  it.each(cases)("%s carries its code and a message naming resource, op and fix", (err) => {
    expect(hasCode(err, err.code)).toBe(true);
    expect(err.message).toContain(`[${err.code}]`);
  });
  it("formats resource, op, reason and fix in one line", () => {
    expect(cases[0]?.message).toBe("FilerArtifact image create: boom Fix: retry [BTD_X_Y]");
  });
});

describe("redact", () => {
  it("hides a registered secret in plain, base64 and hex form, and each PEM body line", () => {
    const key = "-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n-----END KEY-----";
    registerSecret(key);
    registerSecret("tok-1234567890");
    const b64 = Buffer.from("tok-1234567890").toString("base64");
    const hex = Buffer.from("tok-1234567890").toString("hex");
    const out = redact(`a tok-1234567890 b ${b64} c ${hex} d QUJDREVGR0hJSktMTU5PUFFSU1RVVldY`);
    expect(out).not.toContain("tok-1234567890");
    expect(out).not.toContain(b64);
    expect(out).not.toContain(hex);
    expect(out).not.toContain("QUJDREVGR0hJSktMTU5PUFFSU1RVVldY");
  });
  it("errors built after registration never carry the secret", () => {
    registerSecret("hunter2-secret");
    const err = new BacktestDeployError({ code: "BTD_T", reason: "auth failed for hunter2-secret" });
    expect(err.message).not.toContain("hunter2-secret");
  });
});

describe("unknown values", () => {
  it("finds the sentinel at any depth", () => {
    expect(isUnknown(UNKNOWN)).toBe(true);
    expect(isUnknown({ a: [1, { b: UNKNOWN }] })).toBe(true);
    expect(isUnknown({ a: [1, { b: "x" }] })).toBe(false);
  });
});

describe("validate.Failures", () => {
  it("collects every failure with the property named, skipping unknowns", () => {
    const f = new Failures();
    f.string("host", undefined, { required: true });
    f.oneOf("installer", "pip", ["mamba", "micromamba", "conda"]);
    f.integer("retain", -1, { min: 0 });
    f.string("url", UNKNOWN, { required: true });
    expect(f.list.map((x) => x.property)).toEqual(["host", "installer", "retain"]);
    expect(f.list[1]?.reason).toContain('"mamba", "micromamba", "conda"');
    expect(f.list[1]?.reason).toContain('"pip"');
  });
});

describe("settings", () => {
  it("explicit > stack config > env > default", () => {
    const config = { get: (k: string) => (k === "backtest:filerHost" ? "from-config" : undefined) };
    expect(resolveSetting("filerHost", "explicit", config)).toBe("explicit");
    expect(resolveSetting("filerHost", undefined, config)).toBe("from-config");
    process.env[envKey("jenkinsUrl")] = "from-env";
    expect(envKey("jenkinsUrl")).toBe("BTD_JENKINS_URL");
    expect(resolveSetting("jenkinsUrl", undefined, config, "dflt")).toBe("from-env");
    delete process.env[envKey("jenkinsUrl")];
    expect(resolveSetting("jenkinsUrl", undefined, config, "dflt")).toBe("dflt");
  });
});

describe("retry", () => {
  it("retries only what the policy classifies as transient, and reports each attempt", async () => {
    const lines: string[] = [];
    setProgressSink((l) => lines.push(l));
    let calls = 0;
    const policy = {
      name: "test",
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 2,
      classify: (e: unknown) => ({ retry: (e as Error).message === "busy" }),
    };
    const value = await withRetry(
      policy,
      async () => {
        calls++;
        if (calls < 3) throw new Error("busy");
        return "ok";
      },
      createProgress("Kind res"),
    );
    expect(value).toBe("ok");
    expect(lines.filter((l) => l.includes("retry"))).toHaveLength(2);
    await expect(
      withRetry(policy, async () => {
        throw new Error("fatal");
      }),
    ).rejects.toThrow("fatal");
  });
});

describe("runOp", () => {
  it("names the kinds it knows when given an unknown one", async () => {
    await expect(runOp("Nope", "check", [{}, {}])).rejects.toThrow(/unknown resource kind "Nope".*LocalFile/);
    expect(KIND_NAMES).toEqual(["LocalFile", "CondaSquashEnv", "FilerArtifact", "FilerLink", "JenkinsJob"]);
  });
});
