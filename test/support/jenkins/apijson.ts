// Stapler's ?tree= filter: "jobs[name,url,_class],name". _class is always written.

export type Tree = Map<string, Tree | null>;

export function parseTree(spec: string): Tree {
  let pos = 0;
  function list(): Tree {
    const tree: Tree = new Map();
    while (pos < spec.length) {
      let name = "";
      while (pos < spec.length && !",[]{}".includes(spec[pos]!)) name += spec[pos++];
      let sub: Tree | null = null;
      if (spec[pos] === "[") {
        pos++;
        sub = list();
        if (spec[pos] === "]") pos++;
      }
      // A range such as {0,10} limits list length; the stand-in keeps whole lists.
      if (spec[pos] === "{") while (pos < spec.length && spec[pos] !== "}") pos++;
      if (spec[pos] === "}") pos++;
      if (name.trim() !== "") tree.set(name.trim(), sub);
      if (spec[pos] === ",") pos++;
      else if (spec[pos] === "]") break;
    }
    return tree;
  }
  return list();
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function applyTree(value: Json, tree: Tree): Json {
  if (Array.isArray(value)) return value.map((v) => applyTree(v, tree));
  if (value === null || typeof value !== "object") return value;
  const out: { [key: string]: Json } = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "_class") out[key] = v;
    else if (tree.has(key)) {
      const sub = tree.get(key);
      out[key] = sub ? applyTree(v, sub) : v;
    }
  }
  return out;
}
