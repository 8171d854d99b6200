/**
 * The reviewer's report: counts, one table row per changed resource, env
 * versions, then each Jenkins config.xml diff in a collapsible block
 * (GitLab and GitHub both render <details>).
 */

import { CONDA_ENV_KIND, type EnvVersions, envVersions } from "./env-versions.ts";
import { type ConfigDiff, configDiff } from "./jenkins-config-diff.ts";
import { showScalar } from "./property-values.ts";
import { type ChangeOp, OP_ORDER, type PreviewChanges, type ResourceChange } from "./resource-changes.ts";

const SYMBOL: Record<ChangeOp, string> = {
  create: "+",
  update: "~",
  replace: "+-",
  delete: "-",
  import: "=",
};

/** Properties that only name the resource to the provider. */
const HIDDEN_PROPERTIES = new Set(["btdName", "schemaVersion"]);

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(text: string): string {
  const clean = text.replace(/`/g, "'");
  return `\`${clean}\``;
}

function propertyChange(c: ResourceChange, key: string): string {
  const forces = c.op === "replace" && c.replaceKeys.includes(key) ? " (forces replace)" : "";
  const before = showScalar(c.old?.inputs?.[key]);
  const after = showScalar(c.new?.inputs?.[key]);
  if (before === undefined || after === undefined || before === after) return `${code(key)}${forces}`;
  return `${code(key)}: ${code(before)} → ${code(after)}${forces}`;
}

function changeRow(c: ResourceChange): string {
  const shown = c.op === "update" || c.op === "replace" ? c.changedProperties : [];
  const props = shown.filter((p) => !HIDDEN_PROPERTIES.has(p));
  const detail = props.map((p) => propertyChange(c, p)).join(", ");
  return `| ${SYMBOL[c.op]} ${c.op} | ${cell(c.kind)} | ${cell(code(c.name))} | ${cell(detail)} |`;
}

function countsLine(p: PreviewChanges): string {
  const parts = OP_ORDER.flatMap((op) => {
    const n = p.changes.filter((c) => c.op === op).length;
    return n > 0 || op !== "import" ? [`${n} to ${op}`] : [];
  });
  return `**${parts.join(" · ")}** (${p.unchanged} unchanged)`;
}

/** An installed 3.11.2 still satisfies a requested 3.11: not a change to point at. */
function sameVersion(before: string | undefined, after: string | undefined): boolean {
  if (before === after) return true;
  return before !== undefined && after !== undefined && before.startsWith(`${after}.`);
}

function envSection(envs: EnvVersions[]): string[] {
  if (envs.length === 0) return [];
  const out = ["", "#### Environments", ""];
  for (const e of envs) {
    out.push(`**${code(e.resource)}** (${e.op})`);
    if (e.prefixBefore !== e.prefixAfter && (e.prefixBefore || e.prefixAfter)) {
      out.push(`- prefix: ${code(e.prefixBefore ?? "(none)")} → ${code(e.prefixAfter ?? "(none)")}`);
    }
    if (e.rows.length > 0) {
      out.push("", "| Package | Before | After |", "|---|---|---|");
      for (const r of e.rows) {
        const changed = sameVersion(r.before, r.after) ? "" : " ⬅";
        out.push(`| ${cell(r.name)} | ${cell(r.before ?? "—")} | ${cell(r.after ?? "—")}${changed} |`);
      }
    }
    out.push("");
  }
  return out;
}

function fenceFor(text: string): string {
  let fence = "```";
  while (text.includes(fence)) fence += "`";
  return fence;
}

function configSection(diffs: ConfigDiff[]): string[] {
  if (diffs.length === 0) return [];
  const out = ["", "#### Jenkins config.xml", ""];
  for (const d of diffs) {
    if (!d.diff) {
      out.push(`- ${code(d.jobName)} (${d.op}): ${d.note ?? ""}`);
      continue;
    }
    const fence = fenceFor(d.diff);
    out.push(
      "<details>",
      `<summary>${escapeHtml(d.jobName)} (${d.op})</summary>`,
      "",
      `${fence}diff`,
      d.diff.trimEnd(),
      fence,
      "",
      "</details>",
      "",
    );
  }
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function renderSummary(p: PreviewChanges): string {
  const title = p.project ? `${code(p.project)} / ${code(p.stack ?? "?")}` : "";
  const out = [`### Pulumi preview${title ? ` of ${title}` : ""}`, ""];
  if (!p.complete) {
    out.push(
      "**This event log ends before the preview's summary: the preview was cut off, or the log was. What follows may be incomplete.**",
      "",
    );
  }
  if (p.errors.length > 0) {
    out.push("**The preview failed:**", "");
    for (const e of p.errors) out.push(`> ${e.split("\n").join("\n> ")}`, "");
  }
  if (p.changes.length === 0) {
    out.push(`No changes (${p.unchanged} unchanged).`);
    return `${out.join("\n")}\n`;
  }
  out.push(countsLine(p), "", "| Op | Type | Name | Changed |", "|---|---|---|---|");
  for (const c of p.changes) out.push(changeRow(c));
  out.push(...envSection(p.changes.filter((c) => c.kind === CONDA_ENV_KIND).map(envVersions)));
  out.push(...configSection(p.changes.flatMap((c) => configDiff(c) ?? [])));
  return `${out.join("\n").trimEnd()}\n`;
}
