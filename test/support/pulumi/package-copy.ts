/**
 * Installs this package into a test project the way npm would (a real copy
 * of package.json and dist/, not a link to the repo), optionally "rebuilt
 * with different internals": every module renamed and moved, imports
 * rewritten, exports pointing at the new files. State written with one copy
 * must keep working with the other: that is what the trampoline promises.
 */
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { REPO_ROOT } from "./harness.ts";

export type PackageVariant = "as-built" | "renamed-internals";

export async function installPackageCopy(projectDir: string, variant: PackageVariant): Promise<void> {
  const nodeModules = join(projectDir, "node_modules");
  await mkdir(nodeModules, { recursive: true });
  for (const entry of await readdir(join(REPO_ROOT, "node_modules"))) {
    if (entry === "backtest-deploy" || entry.startsWith(".")) continue;
    await symlink(join(REPO_ROOT, "node_modules", entry), join(nodeModules, entry)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    });
  }
  const target = join(nodeModules, "backtest-deploy");
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  if (variant === "as-built") {
    await cp(join(REPO_ROOT, "dist"), join(target, "dist"), { recursive: true });
  } else {
    await writeRenamed(target);
    pkg.exports = {
      ".": { default: "./lib/r2/s_index_r2.js" },
      "./provider": { default: "./lib/r2/p_index_r2.js" },
      "./package.json": "./package.json",
    };
    pkg.main = "./lib/r2/s_index_r2.js";
  }
  await writeFile(join(target, "package.json"), JSON.stringify(pkg, null, 2));
}

/** dist/provider/x.js → lib/r2/p_x_r2.js, dist/sdk/x.js → lib/r2/s_x_r2.js, imports rewritten. */
async function writeRenamed(target: string): Promise<void> {
  const out = join(target, "lib", "r2");
  await mkdir(out, { recursive: true });
  const areas = [
    { dir: join(REPO_ROOT, "dist", "provider"), prefix: "p" },
    { dir: join(REPO_ROOT, "dist", "sdk"), prefix: "s" },
  ];
  for (const { dir, prefix } of areas) {
    for (const file of await listJs(dir)) {
      const rel = file.slice(dir.length + 1);
      const flat = (p: string, px: string) => `${px}_${p.replace(/\.js$/, "").replaceAll("/", "__")}_r2.js`;
      let code = await readFile(file, "utf8");
      code = code.replace(/(["'])(\.\.?\/[^"']+\.js)\1/g, (_m, q: string, spec: string) => {
        const depth = rel.split("/").length - 1;
        const parts = [...rel.split("/").slice(0, depth), ...spec.split("/")];
        const resolved: string[] = [];
        for (const part of parts) {
          if (part === ".") continue;
          if (part === "..") resolved.pop();
          else resolved.push(part);
        }
        const [head, ...restParts] = resolved;
        if (head === "provider") return `${q}./${flat(restParts.join("/"), "p")}${q}`;
        if (head === "sdk") return `${q}./${flat(restParts.join("/"), "s")}${q}`;
        return `${q}./${flat(resolved.join("/"), prefix)}${q}`;
      });
      code = code.replace(/\/\/# sourceMappingURL=.*$/m, "");
      await writeFile(join(out, flat(rel, prefix)), code);
    }
  }
}

async function listJs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listJs(path)));
    else if (basename(path).endsWith(".js")) found.push(path);
  }
  return found;
}
