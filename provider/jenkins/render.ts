/**
 * Renders a job's config.xml from its nunjucks (Jinja-compatible) template.
 *
 * Autoescaping is on, so every value lands in the XML as text, whatever it
 * holds (`&`, `<`, `]]>`, quotes); `throwOnUndefined` turns a misspelt
 * variable into an error instead of an empty string. Every failure names the
 * template file and line, because it is shown at preview time to the person
 * who edited that file.
 */
import nunjucks from "nunjucks";
import { parseXml, type XmlElement, XmlSyntaxError } from "./canonical-xml.ts";

export interface RenderParameter {
  name: string;
  defaultValue: string;
  description: string;
  trim: boolean;
}

export interface RenderInput {
  /** Template text. */
  template: string;
  /** Shown in errors: the template's path relative to the program folder. */
  templateName: string;
  /** The Jenkinsfile, raw (the template puts it in `<script>`; escaping makes it XML text). */
  jenkinsfile: string;
  /** The description with the ownership marker already appended. */
  description: string;
  parameters: RenderParameter[];
  /** A placeholder text while it is unknown in preview. */
  disabled: boolean | string;
  /** The job's path, e.g. `team/backtests/nightly`. */
  name: string;
  vars: Record<string, unknown>;
}

/** Names the template sees besides `vars` (which is also spread at the top level). */
export const RESERVED_NAMES = [
  "jenkinsfile",
  "description",
  "parameters",
  "disabled",
  "name",
  "vars",
] as const;

export class RenderError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(file: string, reason: string, line?: number, column?: number) {
    const where = line === undefined ? file : `${file}:${line}${column === undefined ? "" : `:${column}`}`;
    super(`${where}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}
RenderError.prototype.name = "RenderError";

// One environment: nunjucks keeps no state between renders; the loader-less
// setup means a template cannot include files behind the reviewer's back.
const env = new nunjucks.Environment(null, { autoescape: true, throwOnUndefined: true });

/**
 * nunjucks reports "(name) [Line n, Column m]" followed by the reason; it
 * keeps the position only in the text, so read it back from there.
 */
function locate(message: string): { reason: string; line?: number; column?: number } {
  const where = /\[Line (\d+)(?:, Column (\d+))?\]/.exec(message);
  const lines = message.split("\n").map((l) => l.trim());
  const reason = lines
    .filter((l) => l && !/^\(.*\)( \[Line \d+(, Column \d+)?\])?$/.test(l))
    .join(" ")
    .replace(/^(Template render error|TypeError|Error):\s*/i, "");
  return {
    reason: reason || message,
    line: where ? Number(where[1]) : undefined,
    column: where?.[2] ? Number(where[2]) : undefined,
  };
}

/** The `{{ … }}` at that position, so "undefined value" can say which one. */
function expressionAt(
  template: string,
  line: number | undefined,
  column: number | undefined,
): string | undefined {
  if (line === undefined) return undefined;
  const text = template.split("\n")[line - 1] ?? "";
  const exprs = [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/g)];
  if (exprs.length === 0) return undefined;
  const at = column ?? 0;
  const hit = exprs.find((m) => (m.index ?? 0) <= at && at <= (m.index ?? 0) + m[0].length) ?? exprs[0];
  return hit?.[1];
}

/**
 * Compiled templates by name and text: a stack renders the same template for
 * every job, and compiling it dominated check() on large stacks.
 */
const COMPILED_MEMO_SIZE = 64;
const compiled = new Map<string, nunjucks.Template>();

function compile(template: string, name: string): nunjucks.Template {
  const key = `${name}\0${template}`;
  let t = compiled.get(key);
  if (t === undefined) {
    t = new nunjucks.Template(template, env, name, true);
    if (compiled.size >= COMPILED_MEMO_SIZE) {
      const oldest = compiled.keys().next();
      if (!oldest.done) compiled.delete(oldest.value);
    }
    compiled.set(key, t);
  }
  return t;
}

export function renderConfig(input: RenderInput): string {
  return renderConfigParsed(input).xml;
}

/** renderConfig, also giving the parsed root that its well-formedness check built. */
export function renderConfigParsed(input: RenderInput): { xml: string; root: XmlElement } {
  const context: Record<string, unknown> = {
    ...input.vars,
    vars: input.vars,
    jenkinsfile: input.jenkinsfile,
    description: input.description,
    parameters: input.parameters,
    disabled: input.disabled,
    name: input.name,
  };
  let xml: string;
  try {
    xml = compile(input.template, input.templateName).render(context);
  } catch (err) {
    const { reason, line, column } = locate(err instanceof Error ? err.message : String(err));
    const expr = /undefined value/.test(reason) ? expressionAt(input.template, line, column) : undefined;
    const detail = expr
      ? `"{{ ${expr} }}" is undefined (known names: ${Object.keys(context).sort().join(", ")})`
      : reason;
    throw new RenderError(input.templateName, detail, line, column);
  }
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    const lineText = err.line === undefined ? "" : (xml.split("\n")[err.line - 1] ?? "").trim();
    const near = lineText ? ` near ${JSON.stringify(lineText.slice(0, 120))}` : "";
    throw new RenderError(
      input.templateName,
      `the rendered config.xml is not well-formed XML: ${err.message}${
        err.line === undefined ? "" : ` (line ${err.line} of the rendered config.xml)`
      }${near}`,
      templateLineOf(input.template, lineText),
    );
  }
  return { xml, root };
}

/** The template line that rendered to this text, when it holds no substitution; helps point at the file's own line. */
function templateLineOf(template: string, renderedLine: string): number | undefined {
  if (!renderedLine) return undefined;
  const lines = template.split("\n");
  const matches = lines.flatMap((l, i) => (l.trim() === renderedLine ? [i + 1] : []));
  return matches.length === 1 ? matches[0] : undefined;
}
