/**
 * Canonical form of a config.xml, for drift detection and diffs.
 *
 * Jenkins 2.568+ answers GET config.xml with the job re-serialized: an XML
 * 1.1 declaration, `plugin="name@version"` attributes that change with every
 * plugin upgrade, its own entity spellings and indentation, and elements it
 * manages itself (the `<actions>` a declarative pipeline records after a
 * build). Comparing text would show a diff on every preview; comparing this
 * form shows only what a person changed.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { sha256Text } from "../hash.ts";

export interface XmlElement {
  name: string;
  attrs: Array<[string, string]>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | { text: string };

export function isElement(node: XmlNode): node is XmlElement {
  return "name" in node;
}

export class XmlSyntaxError extends Error {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, line?: number, column?: number) {
    super(message);
    this.line = line;
    this.column = column;
  }
}
XmlSyntaxError.prototype.name = "XmlSyntaxError";

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Decoded below, so that every spelling (&apos; &#39; &#x27;) ends up the same and an undeclared entity is an error.
  processEntities: false,
  htmlEntities: false,
  cdataPropName: "#cdata",
  commentPropName: "#comment",
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeEntities(raw: string): string {
  if (!raw.includes("&")) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";"))
      throw new XmlSyntaxError(`"&" must start an entity reference, found "${whole}"`);
    let code: number | undefined;
    if (/^#x[0-9a-fA-F]+$/.test(ref)) code = Number.parseInt(ref.slice(2), 16);
    else if (/^#[0-9]+$/.test(ref)) code = Number.parseInt(ref.slice(1), 10);
    if (code !== undefined) return String.fromCodePoint(code);
    const named = NAMED[ref];
    if (named === undefined) throw new XmlSyntaxError(`undeclared entity "&${ref};"`);
    return named;
  });
}

type FxpEntry = Record<string, unknown>;

function convert(entries: FxpEntry[]): XmlNode[] {
  const out: XmlNode[] = [];
  const pushText = (text: string) => {
    const last = out[out.length - 1];
    if (last !== undefined && !isElement(last)) out[out.length - 1] = { text: last.text + text };
    else out.push({ text });
  };
  for (const entry of entries) {
    for (const [key, value] of Object.entries(entry)) {
      if (key === ":@" || key === "#comment" || key.startsWith("?")) continue;
      if (key === "#text") pushText(decodeEntities(String(value)));
      else if (key === "#cdata") {
        const inner = Array.isArray(value) ? (value as FxpEntry[]) : [];
        pushText(inner.map((e) => String(e["#text"] ?? "")).join(""));
      } else {
        const rawAttrs = (entry[":@"] ?? {}) as Record<string, unknown>;
        out.push({
          name: key,
          attrs: Object.entries(rawAttrs).map(([k, v]) => [k, decodeEntities(String(v))]),
          children: convert(Array.isArray(value) ? (value as FxpEntry[]) : []),
        });
      }
    }
  }
  return out;
}

/** Parses a config.xml; throws XmlSyntaxError with line and column when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  // XML end-of-line handling happens before parsing: a literal CR LF is LF, while &#xd; stays a CR.
  const body = (text.startsWith("\uFEFF") ? text.slice(1) : text).replace(/\r\n?/g, "\n");
  if (/<!DOCTYPE/i.test(body)) throw new XmlSyntaxError("a DOCTYPE is not allowed (Jenkins refuses it)");
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new XmlSyntaxError(valid.err.msg, valid.err.line, valid.err.col);
  const nodes = convert(parser.parse(body) as FxpEntry[]);
  const roots = nodes.filter(isElement);
  if (roots.length !== 1 || nodes.some((n) => !isElement(n) && n.text.trim() !== "")) {
    throw new XmlSyntaxError(`a config.xml must have exactly one root element, found ${roots.length}`);
  }
  return roots[0] as XmlElement;
}

export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (isElement(c) ? textOf(c) : c.text)).join("");
}

export function childText(el: XmlElement, name: string): string | undefined {
  const child = childElements(el).find((c) => c.name === name);
  return child === undefined ? undefined : textOf(child);
}

/**
 * Children of the item's root that Jenkins writes on its own. `<actions>`
 * holds persisted actions (the declarative pipeline's job and tracker
 * actions appear after the first build); no one configures them.
 */
const JENKINS_MANAGED_ROOT_CHILDREN = new Set(["actions"]);

/** Attributes that carry versions, not configuration. */
const IGNORED_ATTRIBUTES = new Set(["plugin"]);

function canonicalNode(node: XmlElement, isRoot: boolean): XmlElement {
  const hasElements = node.children.some(isElement);
  let children: XmlNode[];
  if (hasElements) {
    // Mixed content never occurs in XStream output: text between elements is indentation.
    children = node.children
      .filter((c) => isElement(c) && !(isRoot && JENKINS_MANAGED_ROOT_CHILDREN.has(c.name)))
      .map((c) => canonicalNode(c as XmlElement, false));
  } else {
    const text = node.children.map((c) => (isElement(c) ? "" : c.text)).join("");
    // <x/> and <x></x> are the same value.
    children = text === "" ? [] : [{ text }];
  }
  const attrs = node.attrs
    .filter(([k]) => !IGNORED_ATTRIBUTES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { name: node.name, attrs, children };
}

/** The canonical tree: no declaration, no plugin attributes, no indentation, entities decoded, managed elements dropped. */
export function canonicalize(root: XmlElement): XmlElement {
  return canonicalNode(root, true);
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#xd;");
}

function escapeAttr(text: string): string {
  return escapeText(text).replace(/"/g, "&quot;").replace(/\n/g, "&#xa;").replace(/\t/g, "&#x9;");
}

/** The canonical tree written as compact XML: the text that is hashed and shown in diffs. */
export function writeCanonical(node: XmlElement): string {
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join("");
  if (node.children.length === 0) return `<${node.name}${attrs}/>`;
  const inner = node.children.map((c) => (isElement(c) ? writeCanonical(c) : escapeText(c.text))).join("");
  return `<${node.name}${attrs}>${inner}</${node.name}>`;
}

/**
 * One deploy compares the same texts several times (check, diff, update, and
 * the read-back), and parsing dominates the provider's CPU on a large stack:
 * remember the canonical form of the texts seen last. Strings in, strings out,
 * so nothing shared can be changed by a caller.
 */
const CANONICAL_MEMO_SIZE = 1024;
const canonicalMemo = new Map<string, string>();

function remember(text: string, canonical: string): string {
  if (canonicalMemo.size >= CANONICAL_MEMO_SIZE) {
    const oldest = canonicalMemo.keys().next();
    if (!oldest.done) canonicalMemo.delete(oldest.value);
  }
  canonicalMemo.set(text, canonical);
  return canonical;
}

export function canonicalXml(text: string): string {
  const known = canonicalMemo.get(text);
  if (known !== undefined) {
    canonicalMemo.delete(text);
    canonicalMemo.set(text, known);
    return known;
  }
  return remember(text, writeCanonical(canonicalize(parseXml(text))));
}

/** Forgets the remembered forms, so a benchmark can measure a provider process that starts cold. */
export function forgetCanonicalForms(): void {
  canonicalMemo.clear();
}

/** canonicalXml of a text already parsed (by the caller, into `root`): saves parsing it again. */
export function canonicalXmlOfParsed(text: string, root: XmlElement): string {
  return canonicalMemo.get(text) ?? remember(text, writeCanonical(canonicalize(root)));
}

/** sha256 of the canonical form: equal for every spelling Jenkins may give the same job. */
export function canonicalSha256(text: string): string {
  return sha256Text(canonicalXml(text));
}

/** The root element's name: `project` (freestyle), `flow-definition` (pipeline), a folder class… */
export function rootElementOf(text: string): string {
  return parseXml(text).name;
}
