import { redact } from "./redact.ts";

/**
 * Progress of long work. What a dynamic provider prints reaches the CLI as a
 * diagnostic of the stack, not of the resource, and stays in the log, so each
 * line names its resource, and repeated updates are throttled.
 */
export interface ProgressEvent {
  phase: string;
  message: string;
  done?: number;
  total?: number;
}

export type ProgressLine = (line: string) => void;

export interface Progress {
  /** Always printed: a phase starts or ends. */
  step(phase: string, message: string): void;
  /** Printed at most once per throttle interval: bytes sent, installer lines. */
  tick(event: ProgressEvent): void;
  elapsedMs(): number;
}

const DEFAULT_THROTTLE_MS = 3000;

let sink: ProgressLine = (line) => process.stderr.write(`${line}\n`);

/** Tests and the trampoline may redirect where lines go. */
export function setProgressSink(next: ProgressLine): void {
  sink = next;
}

export function createProgress(label: string, throttleMs = DEFAULT_THROTTLE_MS): Progress {
  const started = Date.now();
  let lastTick = 0;
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const emit = (phase: string, message: string) =>
    sink(redact(`[backtest-deploy] ${label} ${phase}: ${message} (${elapsed()})`));
  return {
    step: (phase, message) => emit(phase, message),
    tick: (event) => {
      const now = Date.now();
      if (now - lastTick < throttleMs) return;
      lastTick = now;
      const amount =
        event.total !== undefined && event.done !== undefined
          ? ` ${formatAmount(event.done)}/${formatAmount(event.total)}`
          : "";
      emit(event.phase, `${event.message}${amount}`);
    },
    elapsedMs: () => Date.now() - started,
  };
}

function formatAmount(n: number): string {
  if (n < 1024) return String(n);
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
