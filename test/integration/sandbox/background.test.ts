/**
 * The demo runs the sandbox in the background between runs and stops it with
 * one command: start, find it again, reach its services, stop, all gone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { readSandbox, startSandbox, stopSandbox } from "../../support/sandbox/control.ts";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("sandbox in the background", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) {
      await stopSandbox(dir);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("starts once, is found again, serves, and stops with one command", async () => {
    dir = await mkdtemp(join(tmpdir(), "btd-sandbox-"));
    const info = await startSandbox(dir);
    const again = await startSandbox(dir);
    expect(again.pid).toBe(info.pid);
    expect(await portOpen(info.filer.port)).toBe(true);
    const auth = Buffer.from(`${info.jenkins.user}:${info.jenkins.apiToken}`).toString("base64");
    const res = await request(`${info.jenkins.url}api/json`, { headers: { authorization: `Basic ${auth}` } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(await stopSandbox(dir)).toBe(true);
    expect(await readSandbox(dir)).toBeUndefined();
    expect(await portOpen(info.filer.port)).toBe(false);
    expect(await portOpen(Number(new URL(info.jenkins.url).port))).toBe(false);
  });
});
