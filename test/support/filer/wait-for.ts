import { setTimeout as delay } from "node:timers/promises";

export interface WaitForOptions {
  /** What is being waited for, quoted in the timeout error. */
  what: string;
  /** Default: 10_000 ms. */
  timeoutMs?: number;
  /** Default: 25 ms. */
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than `undefined`, and returns that.
 * A probe may throw to abort the wait early (e.g. the process it watches has exited).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitForOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const interval = options.intervalMs ?? 25;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what}`);
    }
    await delay(interval);
  }
}
