// The conda part of the sandbox: rattler-mamba (py-rattler) on the local channel.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildChannelScript,
  channelInputsHash,
  ensureChannel,
  installerPath,
  readInstallerLog,
  venvPython,
} from "../../support/conda/index.ts";

let channel: string;
let tmp: string;
let log: string;
let pkgs: string;
let calls = 0;

function mamba(args: string[]) {
  calls += 1;
  return execa(installerPath, args, {
    reject: false,
    env: { RATTLER_MAMBA_LOG: log, CONDA_PKGS_DIRS: pkgs },
  });
}

/** Runs a program of the env with an empty environment: nothing from the caller leaks in. */
function isolated(cmd: string, args: string[]) {
  return execa("env", ["-i", cmd, ...args], { reject: false });
}

async function treeDigest(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    const rel = path.slice(dir.length + 1);
    if (e.isSymbolicLink()) out.set(rel, `-> ${await readlink(path)}`);
    else if (e.isFile())
      out.set(
        rel,
        createHash("sha256")
          .update(await readFile(path))
          .digest("hex"),
      );
  }
  return out;
}

beforeAll(async () => {
  channel = await ensureChannel();
  tmp = await mkdtemp(join(tmpdir(), "btd-conda-"));
  log = join(tmp, "installer.log");
  pkgs = join(tmp, "pkgs");
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("local conda channel", () => {
  it("is keyed by the same inputs hash in TypeScript and in build-channel.py", async () => {
    const py = await execa(venvPython(), [buildChannelScript, "--inputs-hash"]);
    expect(py.stdout.trim()).toBe(await channelInputsHash());
    expect(channel).toContain(`conda-channel-${py.stdout.trim().slice(0, 16)}`);
  });

  it("holds python, prefix-probe and two meanrev versions", async () => {
    const linux = JSON.parse(await readFile(join(channel, "linux-64", "repodata.json"), "utf8"));
    const noarch = JSON.parse(await readFile(join(channel, "noarch", "repodata.json"), "utf8"));
    expect(Object.keys(linux.packages).sort()).toEqual([
      "prefix-probe-1.0.0-0.tar.bz2",
      "python-3.11.2-0_debian.tar.bz2",
    ]);
    expect(Object.keys(noarch.packages).sort()).toEqual([
      "meanrev-1.0.0-py_0.tar.bz2",
      "meanrev-1.1.0-py_0.tar.bz2",
    ]);
    expect(noarch.packages["meanrev-1.0.0-py_0.tar.bz2"].depends).toEqual(["python >=3.8"]);
    expect(noarch.packages["meanrev-1.0.0-py_0.tar.bz2"].noarch).toBe("python");
  });

  it("is not rebuilt when up to date", async () => {
    const again = await execa(venvPython(), [buildChannelScript, channel]);
    expect(again.stderr).toContain("is up to date");
  });
});

describe("rattler-mamba", () => {
  let env1: string;

  it("prints its version", async () => {
    const r = await mamba(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^rattler-mamba \d+\.\d+\.\d+ \(py-rattler 0\.28\.\d+\)$/);
  });

  it("creates an env from specs and its entry point runs with the env's python", async () => {
    env1 = join(tmp, "env1");
    const r = await mamba([
      "create",
      "-y",
      "-p",
      env1,
      "-c",
      channel,
      "--override-channels",
      "--offline",
      "meanrev=1.0.0",
      "python=3.11",
      "prefix-probe",
    ]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const script = await readFile(join(env1, "bin", "meanrev-backtest"), "utf8");
    expect(script.split("\n")[0]).toBe(`#!${env1}/bin/python3.11`);
    const out = join(tmp, "out1");
    const run = await isolated(join(env1, "bin", "meanrev-backtest"), ["--output", out, "--days", "300"]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^meanrev 1\.0\.0: days=300 lookback=10 pnl=-?\d+\.\d\d sharpe=/);
    const results = JSON.parse(await readFile(join(out, "results.json"), "utf8"));
    expect(results).toMatchObject({
      package: "meanrev",
      version: "1.0.0",
      params: { days: 300, lookback: 10 },
    });
    expect(typeof results.metrics.sharpe).toBe("number");
    const check = await isolated(join(env1, "bin", "meanrev-check"), [
      join(out, "results.json"),
      "--version",
      "1.0.0",
    ]);
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toMatch(/^OK meanrev 1\.0\.0/);
    const fail = await isolated(join(env1, "bin", "meanrev-check"), [
      join(out, "results.json"),
      "--min-sharpe",
      "99",
    ]);
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toMatch(/^FAIL sharpe/);
  });

  it("installs a python that needs nothing outside the prefix but system C libraries", async () => {
    const code = [
      "import json, sys, sysconfig, ssl, sqlite3, decimal, ctypes, zoneinfo",
      "print(json.dumps({'prefix': sys.prefix, 'exec_prefix': sys.exec_prefix, 'path': sys.path,",
      "  'purelib': sysconfig.get_paths()['purelib'], 'modules': sorted(m.__file__ for m in sys.modules.values()",
      "  if getattr(m, '__file__', None))}))",
    ].join("\n");
    const r = await isolated(join(env1, "bin", "python"), ["-c", code]);
    expect(r.stderr).toBe("");
    const info = JSON.parse(r.stdout);
    expect(info.prefix).toBe(env1);
    expect(info.exec_prefix).toBe(env1);
    expect(info.path).toContain(`${env1}/lib/python3.11/site-packages`);
    expect(info.purelib).toBe(`${env1}/lib/python3.11/site-packages`);
    for (const p of info.path.filter((p: string) => p !== "")) expect(p.startsWith(`${env1}/`)).toBe(true);
    for (const f of info.modules) expect(f.startsWith(`${env1}/`)).toBe(true);
    const ldd = await execa("ldd", [join(env1, "bin", "python3.11")]);
    expect(ldd.stdout).not.toContain("not found");
    for (const line of ldd.stdout.split("\n")) {
      const m = /=>\s+(\S+)/.exec(line);
      if (m) expect(m[1]).toMatch(/^\/(usr\/)?lib(64)?\//);
    }
  });

  it("replaces the prefix placeholder in text files", async () => {
    const r = await isolated(join(env1, "bin", "prefix-probe"), []);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(env1);
    expect(await readFile(join(env1, "etc", "prefix-probe.conf"), "utf8")).toContain(`prefix = ${env1}\n`);
  });

  it("runs commands inside the env", async () => {
    const r = await mamba([
      "run",
      "-p",
      env1,
      "python",
      "-c",
      "import os, sys; print(sys.prefix, os.environ['CONDA_PREFIX'])",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${env1} ${env1}`);
  });

  it("lists the env as JSON and as an explicit lock that recreates exactly the same env", async () => {
    const json = await mamba(["list", "-p", env1, "--json"]);
    expect(json.exitCode).toBe(0);
    const pkgsList = JSON.parse(json.stdout) as { name: string; version: string; build_string: string }[];
    expect(pkgsList.map((p) => `${p.name}=${p.version}=${p.build_string}`)).toEqual([
      "meanrev=1.0.0=py_0",
      "prefix-probe=1.0.0=0",
      "python=3.11.2=0_debian",
    ]);
    const lock = await mamba(["list", "-p", env1, "--explicit", "--md5"]);
    expect(lock.exitCode).toBe(0);
    const lines = lock.stdout.split("\n");
    expect(lines).toContain("# platform: linux-64");
    const urls = lines.slice(lines.indexOf("@EXPLICIT") + 1);
    expect(urls).toHaveLength(3);
    for (const u of urls)
      expect(u).toMatch(/^file:\/\/\/.+\/(linux-64|noarch)\/[^/]+\.tar\.bz2#[0-9a-f]{32}$/);
    // Dependencies first (conda's order): python before meanrev.
    const at = (fn: string) => urls.findIndex((u) => u.includes(`/${fn}#`));
    expect(at("python-3.11.2-0_debian.tar.bz2")).toBeLessThan(at("meanrev-1.0.0-py_0.tar.bz2"));
    expect(at("prefix-probe-1.0.0-0.tar.bz2")).toBeGreaterThanOrEqual(0);
    const lockFile = join(tmp, "lock.txt");
    await writeFile(lockFile, `${lock.stdout}\n`);
    const env2 = join(tmp, "env2");
    const create = await mamba(["create", "-y", "-p", env2, "--file", lockFile]);
    expect(create.stderr).toBe("");
    expect(create.exitCode).toBe(0);
    const lock2 = await mamba(["list", "-p", env2, "--explicit", "--md5"]);
    expect(lock2.stdout).toBe(lock.stdout);
  });

  it("creates an env from an environment.yml (create --file and env create -f)", async () => {
    const yml = join(tmp, "environment.yml");
    await writeFile(
      yml,
      `name: ignored\nchannels:\n  - file://${channel}\ndependencies:\n  - meanrev=1.1.0\n  - python=3.11\n`,
    );
    for (const [i, args] of [
      ["create", "-y", "-p", join(tmp, "env3"), "--file", yml],
      ["env", "create", "-y", "-p", join(tmp, "env4"), "-f", yml],
    ].entries()) {
      const r = await mamba(args);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const prefix = join(tmp, `env${i + 3}`);
      const run = await isolated(join(prefix, "bin", "meanrev-backtest"), [
        "--output",
        join(tmp, `out${i + 3}`),
      ]);
      expect(run.stdout).toMatch(/^meanrev 1\.1\.0: days=500 lookback=20 /);
    }
  });

  it("installs byte-identical content twice at the same prefix", async () => {
    const env5 = join(tmp, "env5");
    const args = ["create", "-y", "-p", env5, "-c", `file://${channel}`, "meanrev=1.0.0", "prefix-probe"];
    expect((await mamba(args)).exitCode).toBe(0);
    const first = await treeDigest(env5);
    expect((await mamba(args)).exitCode).toBe(0);
    const second = await treeDigest(env5);
    expect(second).toEqual(first);
    expect(first.has("conda-meta/meanrev-1.0.0-py_0.json")).toBe(true);
  });

  it("fails with the solver's message on an unsolvable spec", async () => {
    const r = await mamba(["create", "-y", "-p", join(tmp, "bad"), "-c", channel, "meanrev=9.9"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Could not solve for environment specs");
    expect(r.stderr).toContain("No candidates were found for meanrev 9.9.*");
  });

  it("fails clearly on a missing channel", async () => {
    const missing = join(tmp, "no-such-channel");
    const r = await mamba(["create", "-y", "-p", join(tmp, "bad2"), "-c", missing, "meanrev"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `rattler-mamba: error: channel file://${missing} not found: ${missing} does not exist`,
    );
  });

  it("logs one line per invocation", async () => {
    const entries = await readInstallerLog(log);
    expect(entries).toHaveLength(calls);
    expect(entries[0]).toEqual(["--version"]);
    expect(entries.every((argv) => Array.isArray(argv) && argv.every((a) => typeof a === "string"))).toBe(
      true,
    );
  });
});
