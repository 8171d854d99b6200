/**
 * Retry as a wrapper with a named policy. Each policy keeps its defaults in
 * one object; every retried attempt is reported through progress so a CI
 * log shows why a deploy waits.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Progress } from "./progress.ts";

export interface RetryPolicy {
  name: string;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Decides whether an error is worth another attempt, and may suggest a wait (Retry-After). */
  classify(err: unknown): { retry: boolean; waitMs?: number };
}

export async function withRetry<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  progress?: Progress,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const verdict = policy.classify(err);
      if (!verdict.retry || attempt >= policy.maxAttempts) throw err;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const jitter = Math.floor(Math.random() * (backoff / 4));
      const waitMs = verdict.waitMs ?? backoff + jitter;
      progress?.step(
        "retry",
        `${policy.name}: attempt ${attempt}/${policy.maxAttempts} failed (${
          err instanceof Error ? err.message.split("\n")[0] : String(err)
        }); retrying in ${(waitMs / 1000).toFixed(1)}s`,
      );
      await delay(waitMs);
    }
  }
}
