import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { childElements, childText, parseXml, textOf } from "../../../provider/jenkins/canonical-xml.ts";
import { DEFAULT_TEMPLATE } from "../../../provider/jenkins/default-template.ts";
import { RenderError, type RenderInput, renderConfig } from "../../../provider/jenkins/render.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");

describe("renderConfig golden fixtures", () => {
  const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory());
  it("finds the fixtures", () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(c.name, () => {
      const dir = join(FIXTURES, c.name);
      const values = JSON.parse(readFileSync(join(dir, "values.json"), "utf8")) as Omit<
        RenderInput,
        "template" | "templateName"
      >;
      const xml = renderConfig({
        ...values,
        template: readFileSync(join(dir, "template.njk"), "utf8"),
        templateName: "template.njk",
      });
      expect(xml).toBe(readFileSync(join(dir, "expected.xml"), "utf8"));
    });
  }
});

const base: RenderInput = {
  template: DEFAULT_TEMPLATE,
  templateName: "jenkins-config.xml",
  jenkinsfile: "pipeline {}",
  description: "",
  parameters: [],
  disabled: false,
  name: "job",
  vars: {},
};

describe("escaping", () => {
  const nasty = [
    "a & b",
    '<tag attr="x">',
    "end ]]> of cdata",
    `'single' "double"`,
    "café 日本 — ✓ 𝔘",
    "back\\slash",
    "&amp; already escaped",
    "tab\there\nnewline",
  ];
  for (const value of nasty) {
    it(`what the parser decodes equals the author's text: ${JSON.stringify(value)}`, () => {
      const xml = renderConfig({
        ...base,
        jenkinsfile: value,
        description: value,
        parameters: [{ name: "P", defaultValue: value, description: value, trim: false }],
      });
      const root = parseXml(xml);
      expect(childText(root, "description")).toBe(value);
      const definition = childElements(root).find((c) => c.name === "definition");
      expect(definition && childText(definition, "script")).toBe(value);
      expect(xml).toContain("<defaultValue>");
      expect(textOf(root)).toContain(value);
    });
  }

  it("escapes values in attributes too", () => {
    const xml = renderConfig({
      ...base,
      template: `<project><x a="{{ v }}"/><description>{{ description }}</description></project>`,
      vars: { v: `"&<'` },
    });
    const x = childElements(parseXml(xml)).find((c) => c.name === "x");
    expect(x?.attrs).toEqual([["a", `"&<'`]]);
  });
});

describe("render errors name the template file and line", () => {
  it("unknown variable", () => {
    const template =
      "<project>\n  <description>{{ description }}</description>\n  <x>{{ envImage }}</x>\n</project>";
    expect(() => renderConfig({ ...base, template })).toThrow(RenderError);
    try {
      renderConfig({ ...base, template });
    } catch (err) {
      const e = err as RenderError;
      expect(e.file).toBe("jenkins-config.xml");
      expect(e.line).toBe(3);
      expect(e.message).toMatch(/^jenkins-config\.xml:3:\d+: "\{\{ envImage \}\}" is undefined/);
    }
  });

  it("unknown member of vars", () => {
    expect(() => renderConfig({ ...base, template: "<project>\n{{ vars.nope.deeper }}</project>" })).toThrow(
      /jenkins-config\.xml:2:\d+: .*undefined/,
    );
  });

  it("template syntax error", () => {
    expect(() => renderConfig({ ...base, template: "<project>\n\n{% if %}</project>" })).toThrow(
      /^jenkins-config\.xml:3:\d+: unexpected token/,
    );
  });

  it("rendered XML that is not well-formed", () => {
    const template = "<project>\n  <description>{{ description }}</description>\n  <builders>\n</project>";
    expect(() => renderConfig({ ...base, template })).toThrow(
      /^jenkins-config\.xml:4: the rendered config\.xml is not well-formed/,
    );
  });

  it("a value cannot break the XML (autoescape)", () => {
    expect(() =>
      renderConfig({ ...base, template: "<project><x>{{ v }}</x></project>", vars: { v: "</x><y>" } }),
    ).not.toThrow();
  });
});

describe("compiled templates are reused, never their values", () => {
  const template = `<project><x>{{ v }}</x><description>{{ description }}</description></project>`;

  it("the same template renders each call's values", () => {
    const a = renderConfig({ ...base, template, vars: { v: "first" } });
    const b = renderConfig({ ...base, template, vars: { v: "second" } });
    expect(childText(parseXml(a), "x")).toBe("first");
    expect(childText(parseXml(b), "x")).toBe("second");
  });

  it("a changed template under the same file name renders the new text", () => {
    renderConfig({ ...base, template, vars: { v: "1" } });
    const changed = renderConfig({ ...base, template: template.replace("<x>", "<y/><x>"), vars: { v: "1" } });
    expect(childElements(parseXml(changed)).map((c) => c.name)).toEqual(["y", "x", "description"]);
  });

  it("a template that failed to compile fails again, it is not remembered", () => {
    const broken = "<project>{% if %}</project>";
    expect(() => renderConfig({ ...base, template: broken })).toThrow(RenderError);
    expect(() => renderConfig({ ...base, template: broken })).toThrow(RenderError);
  });
});
