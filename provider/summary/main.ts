/** btd-preview-summary: event log (file or stdin) → Markdown on stdout. */
import { readFile } from "node:fs/promises";
import { BacktestDeployError } from "../errors.ts";
import { parseEventLog } from "./engine-events.ts";
import { renderSummary } from "./render-markdown.ts";
import { collectChanges } from "./resource-changes.ts";

export const SUMMARY_USAGE = `Usage: btd-preview-summary EVENTS.ndjson > summary.md
       pulumi preview --event-log /dev/stdout … | btd-preview-summary - > summary.md

Turns the engine events of a Pulumi preview (pulumi preview --event-log FILE) into a
Markdown report: each resource to create, update, replace or delete, env package
versions before and after, and a diff of each Jenkins config.xml that changes.
Secret values are never printed.`;

export interface SummaryIo {
  readStdin: () => Promise<string>;
  stdout: (text: string) => void;
  stderr: (line: string) => void;
}

export function summarizeEventLog(text: string): string {
  return summarize(text).markdown;
}

/** The Markdown, and whether the log ran to the preview's end (else the command fails after printing). */
function summarize(text: string): { markdown: string; complete: boolean } {
  const changes = collectChanges(parseEventLog(text));
  return { markdown: renderSummary(changes), complete: changes.complete };
}

export async function summaryMain(argv: readonly string[], io: SummaryIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(`${SUMMARY_USAGE}\n`);
    return 0;
  }
  if (argv.length !== 1) {
    io.stderr(
      `btd-preview-summary: expected one argument (an event log file, or - for stdin)\n${SUMMARY_USAGE}`,
    );
    return 2;
  }
  const source = argv[0] as string;
  try {
    const text = source === "-" ? await io.readStdin() : await readEvents(source);
    const { markdown, complete } = summarize(text);
    io.stdout(markdown);
    if (complete) return 0;
    io.stderr(
      "btd-preview-summary: the event log has no closing summary event: the preview did not finish, or the log was cut off [BTD_SUMMARY_INCOMPLETE]",
    );
    return 1;
  } catch (err) {
    io.stderr(`btd-preview-summary: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function readEvents(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new BacktestDeployError({
      code: "BTD_SUMMARY_READ",
      reason: `cannot read the event log ${path}: ${(err as Error).message}`,
      hint: "run `pulumi preview --event-log FILE` first and pass that FILE",
      cause: err,
    });
  }
}
