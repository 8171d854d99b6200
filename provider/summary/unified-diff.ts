/**
 * A line diff (Myers' O(ND) algorithm) printed as a unified diff, for the
 * config.xml changes in merge-request previews. Written here rather than
 * taken from the `diff` package to keep the provider's dependencies to
 * what it already ships.
 */

export interface Edit {
  op: "=" | "-" | "+";
  text: string;
}

/** Marks a last line that has no newline, so it differs from the same text with one. */
const NO_EOL = "\u0000no-eol";

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  if (last !== "") lines.push(last + NO_EOL);
  return lines;
}

export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  // Common head and tail first: config changes are small, and this keeps D and the trace small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const x0 = a.slice(head, a.length - tail);
  const y0 = b.slice(head, b.length - tail);
  const middle = myers(x0, y0);
  return [
    ...a.slice(0, head).map((text): Edit => ({ op: "=", text })),
    ...middle,
    ...a.slice(a.length - tail).map((text): Edit => ({ op: "=", text })),
  ];
}

function myers(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0))
          ? (v[offset + k + 1] ?? 0)
          : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const t = trace[d] as Int32Array;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && (t[offset + k - 1] ?? 0) < (t[offset + k + 1] ?? 0)) ? k + 1 : k - 1;
    const prevX = t[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: "=", text: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: "+", text: b[y - 1] as string });
      else edits.push({ op: "-", text: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

export interface UnifiedDiffOptions {
  oldLabel: string;
  newLabel: string;
  context?: number;
}

/** GNU-style unified diff; empty string when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, opts: UnifiedDiffOptions): string {
  const context = opts.context ?? 3;
  const edits = diffLines(splitLines(oldText), splitLines(newText));
  if (edits.every((e) => e.op === "=")) return "";
  // Old and new line numbers (0-based) before each edit.
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let nn = 0;
  for (const e of edits) {
    oldAt.push(o);
    newAt.push(nn);
    if (e.op !== "+") o++;
    if (e.op !== "-") nn++;
  }
  const changed = edits.flatMap((e, i) => (e.op === "=" ? [] : [i]));
  const out = [`--- ${opts.oldLabel}`, `+++ ${opts.newLabel}`];
  let i = 0;
  while (i < changed.length) {
    const first = changed[i] as number;
    let last = first;
    // Changes closer than twice the context share a hunk.
    while (i + 1 < changed.length && (changed[i + 1] as number) - last <= 2 * context) {
      i++;
      last = changed[i] as number;
    }
    i++;
    const start = Math.max(0, first - context);
    const end = Math.min(edits.length, last + context + 1);
    const slice = edits.slice(start, end);
    const oldLen = slice.filter((e) => e.op !== "+").length;
    const newLen = slice.filter((e) => e.op !== "-").length;
    out.push(`@@ -${range(oldAt[start] as number, oldLen)} +${range(newAt[start] as number, newLen)} @@`);
    for (const e of slice) {
      const noEol = e.text.endsWith(NO_EOL);
      out.push(`${e.op === "=" ? " " : e.op}${noEol ? e.text.slice(0, -NO_EOL.length) : e.text}`);
      if (noEol) out.push("\\ No newline at end of file");
    }
  }
  return `${out.join("\n")}\n`;
}

function range(start0: number, len: number): string {
  if (len === 0) return `${start0},0`;
  return len === 1 ? `${start0 + 1}` : `${start0 + 1},${len}`;
}
