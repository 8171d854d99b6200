/**
 * A job folder rendered to the config.xml a JenkinsJob would post, without
 * any Jenkins (the offline render of provider/cli/backtest-deploy-render.ts).
 * The folder holds Jenkinsfile, description.html (optional) and
 * jenkins-config.xml (optional: the built-in pipeline template otherwise).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME } from "./default-template.ts";
import { withMarker } from "./marker.ts";
import { type RenderParameter, renderConfig } from "./render.ts";

/** What values.json holds: the JenkinsJob inputs that are not files. */
export interface Values {
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
