import { FOLDER_ROOT, ITEM_CLASSES, type ItemRoot } from "./types.ts";
import type { XmlElement } from "./xml.ts";

export interface Build {
  number: number;
  /** ms since epoch, when simulateBuild ran. */
  timestamp: number;
}

export interface Item {
  name: string;
  root: ItemRoot;
  /** The config text as decoded from the last POST (or UI edit); what an old Jenkins answers verbatim. */
  configXml: string;
  parsed: XmlElement;
  builds: Build[];
  nextBuildNumber: number;
  building: boolean;
  /** Elements Jenkins keeps under <actions> on its own (declarative pipeline trackers). */
  managedActions: XmlElement[];
  /** Present for folders only. */
  children: Map<string, Item> | undefined;
}

export interface Container {
  /** Path segments from the root; empty for Jenkins itself. */
  segments: string[];
  children: Map<string, Item>;
  item: Item | undefined;
}

export function newItem(name: string, root: ItemRoot, configXml: string, parsed: XmlElement): Item {
  return {
    name,
    root,
    configXml,
    parsed,
    builds: [],
    nextBuildNumber: 1,
    building: false,
    managedActions: [],
    children: root === FOLDER_ROOT ? new Map() : undefined,
  };
}

export function classOf(item: Item): string {
  return ITEM_CLASSES[item.root];
}

/** Walks `segments` from the root; undefined when some item is missing or is not a folder. */
export function resolve(top: Map<string, Item>, segments: string[]): Item | undefined {
  let children: Map<string, Item> | undefined = top;
  let item: Item | undefined;
  for (const name of segments) {
    item = children?.get(name);
    if (!item) return undefined;
    children = item.children;
  }
  return item;
}

export function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** Every item under `children`, keyed by its full path ("team/backtests/deploy"). */
export function walk(children: Map<string, Item>, prefix = ""): Array<[string, Item]> {
  const out: Array<[string, Item]> = [];
  for (const item of children.values()) {
    const path = prefix === "" ? item.name : `${prefix}/${item.name}`;
    out.push([path, item]);
    if (item.children) out.push(...walk(item.children, path));
  }
  return out;
}

export function jobUrl(base: string, segments: string[]): string {
  return base + segments.map((s) => `job/${encodeURIComponent(s)}/`).join("");
}
