import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface XmlElement {
  name: string;
  attrs: Array<[string, string]>;
  children: XmlNode[];
}
export interface XmlText {
  text: string;
}
export type XmlNode = XmlElement | XmlText;

export function isElement(node: XmlNode): node is XmlElement {
  return "name" in node;
}

export type ParseResult = { ok: true; root: XmlElement } | { ok: false; error: string };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Entities are decoded here instead, so that an undeclared entity is an error as in a real XML parser.
  processEntities: false,
  htmlEntities: false,
  cdataPropName: "#cdata",
  commentPropName: "#comment",
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

class XmlError extends Error {}

function decodeEntities(raw: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";"))
      throw new XmlError(`The entity name must immediately follow the '&' in "${whole}"`);
    if (ref.startsWith("#x") || ref.startsWith("#X")) {
      const hex = ref.slice(2);
      if (!/^[0-9a-fA-F]+$/.test(hex)) throw new XmlError(`Invalid character reference &${ref};`);
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    if (ref.startsWith("#")) {
      const dec = ref.slice(1);
      if (!/^[0-9]+$/.test(dec)) throw new XmlError(`Invalid character reference &${ref};`);
      return String.fromCodePoint(Number.parseInt(dec, 10));
    }
    const named = NAMED[ref];
    if (named === undefined) throw new XmlError(`The entity "${ref}" was referenced, but not declared.`);
    return named;
  });
}

type FxpEntry = Record<string, unknown>;

function convert(entries: FxpEntry[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const entry of entries) {
    for (const key of Object.keys(entry)) {
      if (key === ":@") continue;
      const value = entry[key];
      if (key === "#text") {
        out.push({ text: decodeEntities(String(value)) });
      } else if (key === "#cdata") {
        // CDATA content is literal text; Jenkins writes it back escaped, not as CDATA.
        const inner = Array.isArray(value) ? (value as FxpEntry[]) : [];
        out.push({ text: inner.map((e) => String(e["#text"] ?? "")).join("") });
      } else if (key === "#comment" || key.startsWith("?")) {
        // XStream keeps no comments or processing instructions.
      } else {
        const rawAttrs = (entry[":@"] ?? {}) as Record<string, unknown>;
        const attrs: Array<[string, string]> = Object.entries(rawAttrs).map(([k, v]) => [
          k,
          decodeEntities(String(v)),
        ]);
        out.push({ name: key, attrs, children: convert(Array.isArray(value) ? (value as FxpEntry[]) : []) });
      }
    }
  }
  return mergeTexts(out);
}

function mergeTexts(nodes: XmlNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const node of nodes) {
    const last = out[out.length - 1];
    if (!isElement(node) && last !== undefined && !isElement(last)) {
      out[out.length - 1] = { text: last.text + node.text };
    } else {
      out.push(node);
    }
  }
  return out;
}

/** Parses a config.xml the way Jenkins' hardened parser accepts it: well-formed, one root, no DTD. */
export function parseXml(text: string): ParseResult {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (/<!DOCTYPE/i.test(body)) {
    return {
      ok: false,
      error:
        'DOCTYPE is disallowed when the feature "http://apache.org/xml/features/disallow-doctype-decl" set to true.',
    };
  }
  const valid = XMLValidator.validate(body, { allowBooleanAttributes: false });
  if (valid !== true) {
    return { ok: false, error: `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})` };
  }
  try {
    const nodes = convert(parser.parse(body) as FxpEntry[]);
    const roots = nodes.filter(isElement);
    const strayText = nodes.some((n) => !isElement(n) && n.text.trim() !== "");
    if (roots.length !== 1 || strayText) {
      return {
        ok: false,
        error:
          roots.length === 0
            ? "Premature end of file."
            : "The markup in the document following the root element must be well-formed.",
      };
    }
    return { ok: true, root: roots[0]! };
  } catch (err) {
    if (err instanceof XmlError) return { ok: false, error: err.message };
    throw err;
  }
}

export function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs.find(([k]) => k === name)?.[1];
}

export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (isElement(c) ? textOf(c) : c.text)).join("");
}
