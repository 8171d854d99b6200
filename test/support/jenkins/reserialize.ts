import { FOLDER_ROOT, ITEM_CLASSES, isItemRoot } from "./types.ts";
import { attr, childElements, isElement, type XmlElement, type XmlNode } from "./xml.ts";

// What Jenkins 2.568+ does to a job's config.xml on GET: XStream writes the in-memory object again.
// The rules below are the stand-in's model of that; the provider's canonical comparison is designed
// against them, so each rule is one that real Jenkins also applies.

export const DECLARATION = "<?xml version='1.1' encoding='UTF-8'?>";

/** Plugin versions written in `plugin="..."`; the class-name prefix decides which plugin owns an element. */
export const PLUGIN_VERSIONS: ReadonlyArray<readonly [prefix: string, plugin: string]> = [
  ["org.jenkinsci.plugins.workflow.job.", "workflow-job@1400.v7fd111b_ec82f"],
  ["org.jenkinsci.plugins.workflow.cps.", "workflow-cps@4106.v7a_8a_8176d450"],
  ["org.jenkinsci.plugins.pipeline.modeldefinition.", "pipeline-model-definition@2.2255.v56a_15e805f12"],
  ["org.jenkinsci.plugins.workflow.flow.", "workflow-api@1384.vdc05a_48f535f"],
  ["com.cloudbees.hudson.plugins.folder.", "cloudbees-folder@6.1012.v79a_86a_1ea_c1f"],
  ["hudson.plugins.git.", "git@5.7.0"],
];

export const DECLARATIVE_PLUGIN = "pipeline-model-definition@2.2255.v56a_15e805f12";
const DECLARATIVE_PREFIX = "org.jenkinsci.plugins.pipeline.modeldefinition.actions.";
export const DECLARATIVE_JOB_ACTION = `${DECLARATIVE_PREFIX}DeclarativeJobAction`;
export const DECLARATIVE_TRACKER_ACTION = `${DECLARATIVE_PREFIX}DeclarativeJobPropertyTrackerAction`;

// String fields: XStream writes an empty string as <x></x>, an empty collection or object as <x/>.
const STRING_FIELDS = new Set(["description", "script", "defaultValue", "name", "displayName", "string"]);

function el(name: string, attrs: Array<[string, string]> = [], children: XmlNode[] = []): XmlElement {
  return { name, attrs, children };
}
function leaf(name: string, text: string): XmlElement {
  return el(name, [], [{ text }]);
}

type FieldDefault = () => XmlElement;
/** Field order of the Java class; a default is filled in when the field is missing, none means omitted. */
type FieldSpec = ReadonlyArray<readonly [name: string, fill?: FieldDefault]>;

const emptyEl =
  (name: string): FieldDefault =>
  () =>
    el(name);
const textEl =
  (name: string, text: string): FieldDefault =>
  () =>
    leaf(name, text);

const FREESTYLE: FieldSpec = [
  ["actions", emptyEl("actions")],
  ["description"],
  ["keepDependencies", textEl("keepDependencies", "false")],
  ["properties", emptyEl("properties")],
  ["scm", () => el("scm", [["class", "hudson.scm.NullSCM"]])],
  ["canRoam", textEl("canRoam", "true")],
  ["disabled", textEl("disabled", "false")],
  ["blockBuildWhenDownstreamBuilding", textEl("blockBuildWhenDownstreamBuilding", "false")],
  ["blockBuildWhenUpstreamBuilding", textEl("blockBuildWhenUpstreamBuilding", "false")],
  ["triggers", emptyEl("triggers")],
  ["concurrentBuild", textEl("concurrentBuild", "false")],
  ["builders", emptyEl("builders")],
  ["publishers", emptyEl("publishers")],
  ["buildWrappers", emptyEl("buildWrappers")],
];

const WORKFLOW: FieldSpec = [
  ["actions", emptyEl("actions")],
  ["description"],
  ["keepDependencies", textEl("keepDependencies", "false")],
  ["properties", emptyEl("properties")],
  ["definition"],
  ["triggers", emptyEl("triggers")],
  ["disabled", textEl("disabled", "false")],
];

const defaultFolderViews: FieldDefault = () =>
  el(
    "folderViews",
    [["class", "com.cloudbees.hudson.plugins.folder.views.DefaultFolderViewHolder"]],
    [
      el(
        "views",
        [],
        [
          el(
            "hudson.model.AllView",
            [],
            [
              el("owner", [
                ["class", FOLDER_ROOT],
                ["reference", "../../../.."],
              ]),
              leaf("name", "All"),
              leaf("filterExecutors", "false"),
              leaf("filterQueue", "false"),
              el("properties", [["class", "hudson.model.View$PropertyList"]]),
            ],
          ),
        ],
      ),
      el("tabBar", [["class", "hudson.views.DefaultViewsTabBar"]]),
    ],
  );

const FOLDER: FieldSpec = [
  ["actions", emptyEl("actions")],
  ["description"],
  ["properties", emptyEl("properties")],
  ["folderViews", defaultFolderViews],
  ["healthMetrics", emptyEl("healthMetrics")],
  ["icon", () => el("icon", [["class", "com.cloudbees.hudson.plugins.folder.icons.StockFolderIcon"]])],
];

const CPS_DEFINITION: FieldSpec = [["script"], ["sandbox", textEl("sandbox", "false")]];
const STRING_PARAMETER: FieldSpec = [
  ["name"],
  ["description"],
  ["defaultValue"],
  ["trim", textEl("trim", "false")],
];

function specFor(node: XmlElement): FieldSpec | undefined {
  if (node.name === "project") return FREESTYLE;
  if (node.name === "flow-definition") return WORKFLOW;
  if (node.name === FOLDER_ROOT) return FOLDER;
  if (attr(node, "class") === "org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition") return CPS_DEFINITION;
  if (node.name === "hudson.model.StringParameterDefinition") return STRING_PARAMETER;
  return undefined;
}

/**
 * Puts known fields in the Java class' order and fills defaults. An element the spec does not know
 * stays right after the known field that preceded it in the posted document.
 */
function applySpec(node: XmlElement, spec: FieldSpec): XmlElement {
  const known = new Set(spec.map(([name]) => name));
  const byField = new Map<string, XmlElement[]>();
  const anchored = new Map<string, XmlElement[]>();
  let anchor = "";
  for (const child of childElements(node)) {
    if (known.has(child.name)) {
      anchor = child.name;
      byField.set(child.name, [...(byField.get(child.name) ?? []), child]);
    } else {
      anchored.set(anchor, [...(anchored.get(anchor) ?? []), child]);
    }
  }
  const children: XmlElement[] = [...(anchored.get("") ?? [])];
  for (const [name, fill] of spec) {
    const present = byField.get(name);
    if (present) children.push(...present);
    else if (fill) children.push(fill());
    children.push(...(anchored.get(name) ?? []));
  }
  return { ...node, children };
}

function normalize(node: XmlElement): XmlElement {
  const hasElements = node.children.some(isElement);
  // Whitespace between elements is formatting, not data; text-only elements keep their text exactly.
  const children = hasElements
    ? node.children
        .filter((c) => isElement(c) || c.text.trim() !== "")
        .map((c) => (isElement(c) ? normalize(c) : c))
    : node.children;
  const spec = specFor(node);
  const next = { ...node, children };
  return spec ? applySpec(next, spec) : next;
}

function pluginOf(node: XmlElement, isRoot: boolean): string | "core" | undefined {
  const cls = isRoot && isItemRoot(node.name) ? ITEM_CLASSES[node.name] : (attr(node, "class") ?? node.name);
  if (!cls.includes(".")) return undefined;
  for (const [prefix, plugin] of PLUGIN_VERSIONS) if (cls.startsWith(prefix)) return plugin;
  return cls.startsWith("hudson.") || cls.startsWith("jenkins.") ? "core" : undefined;
}

/**
 * XStream writes plugin="name@version" on an element whose class belongs to a plugin other than the
 * owner of the enclosing object; fields and same-plugin children carry none; back references never do.
 */
function annotatePlugins(node: XmlElement, parentOwner: string, isRoot: boolean): XmlElement {
  const isReference = attr(node, "reference") !== undefined;
  const owner = isReference ? undefined : pluginOf(node, isRoot);
  let attrs = node.attrs;
  let effective = parentOwner;
  if (owner !== undefined) {
    effective = owner;
    attrs = attrs.filter(([k]) => k !== "plugin");
    if (owner !== "core" && owner !== parentOwner) attrs = [...attrs, ["plugin", owner]];
  }
  return {
    ...node,
    attrs,
    children: node.children.map((c) => (isElement(c) ? annotatePlugins(c, effective, false) : c)),
  };
}

// XStream's PrettyPrintWriter in XML 1.1 mode.
function escapeXml(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "'") out += "&apos;";
    else if (ch === "\r") out += "&#xd;";
    else if ((code < 0x20 && ch !== "\t" && ch !== "\n") || (code >= 0x7f && code <= 0x9f))
      out += `&#x${code.toString(16)};`;
    else out += ch;
  }
  return out;
}

function write(node: XmlElement, depth: number): string {
  const indent = "  ".repeat(depth);
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join("");
  if (node.children.length === 0) {
    return STRING_FIELDS.has(node.name)
      ? `${indent}<${node.name}${attrs}></${node.name}>`
      : `${indent}<${node.name}${attrs}/>`;
  }
  if (!node.children.some(isElement)) {
    const text = node.children.map((c) => (isElement(c) ? "" : c.text)).join("");
    return `${indent}<${node.name}${attrs}>${escapeXml(text)}</${node.name}>`;
  }
  const inner = node.children
    .map((c) => (isElement(c) ? write(c, depth + 1) : `${indent}  ${escapeXml(c.text)}`))
    .join("\n");
  return `${indent}<${node.name}${attrs}>\n${inner}\n${indent}</${node.name}>`;
}

/** Parameter names of the job's ParametersDefinitionProperty, as the declarative tracker records them. */
export function parameterNames(root: XmlElement): string[] {
  const names: string[] = [];
  const props = childElements(root).find((c) => c.name === "properties");
  for (const prop of props ? childElements(props) : []) {
    if (prop.name !== "hudson.model.ParametersDefinitionProperty") continue;
    for (const defs of childElements(prop).filter((c) => c.name === "parameterDefinitions")) {
      for (const def of childElements(defs)) {
        const name = childElements(def).find((c) => c.name === "name");
        if (name) names.push(name.children.map((c) => (isElement(c) ? "" : c.text)).join(""));
      }
    }
  }
  return names;
}

/** The children Jenkins' declarative plugin adds under <actions> once a declarative pipeline has run. */
export function declarativeActions(parameters: string[]): XmlElement[] {
  return [
    el(DECLARATIVE_JOB_ACTION),
    el(
      DECLARATIVE_TRACKER_ACTION,
      [],
      [
        el("jobProperties"),
        el("triggers"),
        el(
          "parameters",
          [],
          parameters.map((p) => leaf("string", p)),
        ),
        el("options"),
      ],
    ),
  ];
}

function withManagedActions(root: XmlElement, managed: XmlElement[]): XmlElement {
  if (managed.length === 0) return root;
  return {
    ...root,
    children: root.children.map((c) => {
      if (!isElement(c) || c.name !== "actions") return c;
      const present = new Set(childElements(c).map((a) => a.name));
      return { ...c, children: [...childElements(c), ...managed.filter((m) => !present.has(m.name))] };
    }),
  };
}

/** The config.xml a modern Jenkins answers for a stored job. */
export function reserialize(root: XmlElement, managedActions: XmlElement[] = []): string {
  const normalized = withManagedActions(normalize(root), managedActions);
  return `${DECLARATION}\n${write(annotatePlugins(normalized, "core", true), 0)}`;
}
