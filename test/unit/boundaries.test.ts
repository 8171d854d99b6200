/**
 * The layout's one-way dependencies (DESIGN "Layout"): provider/ does side
 * effects and knows nothing of Pulumi or sdk/; sdk/ reaches the provider only
 * by package name at run time (the trampoline), never by a relative import
 * that would bake an internal path into state.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/pulumi/harness.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath, e.name));
}

function importsOf(file: string): string[] {
  const code = readFileSync(file, "utf8");
  return [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1] ?? "");
}

describe("module boundaries", () => {
  it("provider/ imports neither @pulumi/* nor sdk/", () => {
    const offenders = sources(join(REPO_ROOT, "provider")).flatMap((f) =>
      importsOf(f)
        .filter((s) => s.startsWith("@pulumi/") || s.includes("/sdk/") || s.startsWith("../sdk"))
        .map((s) => `${relative(REPO_ROOT, f)} imports ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it("sdk/ never imports provider/ modules by relative path, except pure type-only or validation modules", () => {
    const offenders = sources(join(REPO_ROOT, "sdk")).flatMap((f) => {
      const code = readFileSync(f, "utf8");
      return [...code.matchAll(/^import\s+(type\s+)?[^;]*?from\s+["'](\.\.\/provider\/[^"']+)["']/gm)]
        .filter((m) => !m[1])
        .map((m) => `${relative(REPO_ROOT, f)} imports ${m[2]}`);
    });
    expect(offenders).toEqual([]);
  });

  it("the trampoline captures nothing but the kind: no imports besides types", () => {
    const code = readFileSync(join(REPO_ROOT, "sdk/trampoline.ts"), "utf8");
    const valueImports = [...code.matchAll(/^import\s+(?!type\b)[^;]+;/gm)];
    expect(valueImports).toEqual([]);
  });
});
