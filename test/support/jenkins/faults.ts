/** Limits a fault to some requests; a string path matches when the request path contains it. */
export interface FaultFilter {
  method?: string;
  path?: string | RegExp;
}

export type FaultKind = "unavailable" | "reset" | "restarting";

export interface FaultDecision {
  latencyMs: number;
  fault?:
    | { kind: "unavailable"; status: number }
    | { kind: "reset"; afterHandling: boolean }
    | { kind: "restarting" };
}

interface Counted<T> {
  remaining: number;
  filter: FaultFilter | undefined;
  data: T;
}

function matches(filter: FaultFilter | undefined, method: string, path: string): boolean {
  if (!filter) return true;
  if (filter.method !== undefined && filter.method.toUpperCase() !== method.toUpperCase()) return false;
  if (filter.path === undefined) return true;
  return typeof filter.path === "string" ? path.includes(filter.path) : filter.path.test(path);
}

export interface Faults {
  /** Delay before every matching request is handled; 0 turns it off. */
  setLatency(ms: number, filter?: FaultFilter): void;
  /** The next `count` matching requests answer `status` (503 unless told) without reaching Jenkins. */
  failNext(count: number, options?: { status?: 502 | 503 | 504; filter?: FaultFilter }): void;
  /**
   * The next `count` matching requests have their connection destroyed. With `afterHandling` the
   * request is carried out first and only the answer is lost (a create that happened but looks failed).
   */
  resetNext(count: number, options?: { afterHandling?: boolean; filter?: FaultFilter }): void;
  /** Jenkins restarts: every request answers 503 "getting ready" for `ms`; jobs survive, sessions do not. */
  restart(ms: number): Promise<void>;
  /** Whether a restart is under way. */
  readonly restarting: boolean;
  clear(): void;
}

export class FaultState implements Faults {
  private latency: { ms: number; filter: FaultFilter | undefined } = { ms: 0, filter: undefined };
  private failures: Array<Counted<number>> = [];
  private resets: Array<Counted<boolean>> = [];
  private restartUntil = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartWaiters: Array<() => void> = [];
  private readonly onRestart: () => void;

  constructor(latencyMs: number, onRestart: () => void) {
    this.latency = { ms: latencyMs, filter: undefined };
    this.onRestart = onRestart;
  }

  get restarting(): boolean {
    return Date.now() < this.restartUntil;
  }

  setLatency(ms: number, filter?: FaultFilter): void {
    this.latency = { ms, filter };
  }

  failNext(count: number, options: { status?: 502 | 503 | 504; filter?: FaultFilter } = {}): void {
    this.failures.push({ remaining: count, filter: options.filter, data: options.status ?? 503 });
  }

  resetNext(count: number, options: { afterHandling?: boolean; filter?: FaultFilter } = {}): void {
    this.resets.push({ remaining: count, filter: options.filter, data: options.afterHandling ?? false });
  }

  restart(ms: number): Promise<void> {
    this.onRestart();
    this.restartUntil = Date.now() + ms;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.endRestart(), ms);
    return new Promise((resolve) => this.restartWaiters.push(resolve));
  }

  private endRestart(): void {
    this.restartUntil = 0;
    const waiters = this.restartWaiters;
    this.restartWaiters = [];
    for (const resolve of waiters) resolve();
  }

  clear(): void {
    this.latency = { ms: 0, filter: undefined };
    this.failures = [];
    this.resets = [];
    clearTimeout(this.restartTimer);
    this.endRestart();
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
    this.endRestart();
  }

  /** Consumes one counted fault for this request, if any applies. */
  decide(method: string, path: string): FaultDecision {
    const latencyMs = matches(this.latency.filter, method, path) ? this.latency.ms : 0;
    if (this.restarting) return { latencyMs, fault: { kind: "restarting" } };
    const reset = take(this.resets, method, path);
    if (reset !== undefined) return { latencyMs, fault: { kind: "reset", afterHandling: reset } };
    const status = take(this.failures, method, path);
    if (status !== undefined) return { latencyMs, fault: { kind: "unavailable", status } };
    return { latencyMs };
  }
}

function take<T>(queue: Array<Counted<T>>, method: string, path: string): T | undefined {
  const entry = queue.find((e) => e.remaining > 0 && matches(e.filter, method, path));
  if (!entry) return undefined;
  entry.remaining--;
  return entry.data;
}
