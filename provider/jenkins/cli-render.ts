#!/usr/bin/env node
/**
 * Offline render: `backtest-deploy-render <job-folder> <values.json>` writes
 * the config.xml a JenkinsJob would post to stdout, without any Jenkins, for
 * merge-request review and for debugging templates. The folder holds
 * Jenkinsfile, description.html (optional) and jenkins-config.xml
 * (optional: the built-in pipeline template otherwise); values.json holds
 * { name, vars?, parameters?, disabled?, project?, stack? }.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME } from "./default-template.ts";
import { withMarker } from "./marker.ts";
import { type RenderParameter, renderConfig } from "./render.ts";

interface Values {
  name?: string;
  vars?: Record<string, unknown>;
  parameters?: Array<{
    name: string;
    default?: string;
    defaultValue?: string;
    description?: string;
    trim?: boolean;
  }>;
  disabled?: boolean;
  project?: string;
  stack?: string;
}

function optional(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

export function renderJobFolder(folder: string, values: Values): string {
  const templatePath = join(folder, "jenkins-config.xml");
  const template = optional(templatePath);
  const parameters: RenderParameter[] = (values.parameters ?? []).map((p) => ({
    name: p.name,
    defaultValue: String(p.default ?? p.defaultValue ?? ""),
    description: p.description ?? "",
    trim: p.trim ?? true,
  }));
  return renderConfig({
    template: template ?? DEFAULT_TEMPLATE,
    templateName: template === undefined ? DEFAULT_TEMPLATE_NAME : templatePath,
    jenkinsfile: optional(join(folder, "Jenkinsfile")) ?? "",
    description: withMarker(optional(join(folder, "description.html")) ?? "", {
      project: values.project ?? "PROJECT",
      stack: values.stack ?? "STACK",
    }),
    parameters,
    disabled: values.disabled ?? false,
    name: values.name ?? "job",
    vars: values.vars ?? {},
  });
}

function main(argv: string[]): number {
  const [folder, valuesPath] = argv;
  if (!folder || !valuesPath) {
    process.stderr.write("usage: backtest-deploy-render <job-folder> <values.json>\n");
    return 2;
  }
  try {
    const values = JSON.parse(readFileSync(valuesPath, "utf8")) as Values;
    process.stdout.write(renderJobFolder(folder, values));
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "\0")) {
  process.exitCode = main(process.argv.slice(2));
}
