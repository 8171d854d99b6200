/**
 * What PostgreSQL holds for the Pulumi backend: the `pulumi_state` table, one
 * row per backend file (stack checkpoints, their .bak copies, history, locks),
 * the file's bytes as base64 in the JSON data column.
 */
import { gunzipSync } from "node:zlib";
import type { Postgres } from "../postgres/index.ts";

export interface StateRow {
  key: string;
  /** The data column as PostgreSQL returns it. */
  raw: string;
  /** The backend file's bytes as text (gunzipped if the CLI compressed them). */
  decoded: string;
}

export async function stateRows(pg: Postgres, database: string): Promise<StateRow[]> {
  // One JSON object per line keeps keys and data apart without guessing at psql's quoting.
  const out = await pg.query(
    `SELECT json_build_object('key', key, 'data', data) FROM pulumi_state`,
    database,
  );
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const row = JSON.parse(line) as { key: string; data: { data?: string } };
      const bytes = Buffer.from(row.data.data ?? "", "base64");
      const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
      return {
        key: row.key,
        raw: JSON.stringify(row.data),
        decoded: (isGzip ? gunzipSync(bytes) : bytes).toString("utf8"),
      };
    });
}

/** Lock rows of one stack (`.pulumi/locks/<org>/<project>/<stack>/<id>.json`). */
export function lockKeys(rows: StateRow[], project: string, stack: string): string[] {
  return rows.map((r) => r.key).filter((k) => k.includes(`/.pulumi/locks/organization/${project}/${stack}/`));
}

/**
 * The spellings in which a secret could leak into stored text: as is, base64
 * and hex of the whole, and for a PEM key each line of its body (a key split
 * across JSON string escapes still shows its body lines).
 */
export function secretForms(secret: string): Array<{ form: string; value: string }> {
  const forms = [
    { form: "plain", value: secret.trim() },
    { form: "base64", value: Buffer.from(secret).toString("base64") },
    { form: "base64 (trimmed)", value: Buffer.from(secret.trim()).toString("base64") },
    { form: "hex", value: Buffer.from(secret).toString("hex") },
    { form: "hex (trimmed)", value: Buffer.from(secret.trim()).toString("hex") },
  ];
  const body = secret
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("-----"));
  body.forEach((line, i) => {
    // Very short last lines ("=" padding only) would match by chance.
    if (line.length >= 16) forms.push({ form: `PEM body line ${i + 1}`, value: line });
  });
  return forms;
}

/** Every (row, spelling) in which one of the secrets appears; empty when none does. */
export function findSecrets(
  rows: StateRow[],
  secrets: Record<string, string>,
): Array<{ key: string; secret: string; form: string; where: "raw" | "decoded" }> {
  const hits: Array<{ key: string; secret: string; form: string; where: "raw" | "decoded" }> = [];
  for (const row of rows) {
    for (const [name, secret] of Object.entries(secrets)) {
      for (const { form, value } of secretForms(secret)) {
        if (row.raw.includes(value)) hits.push({ key: row.key, secret: name, form, where: "raw" });
        if (row.decoded.includes(value)) hits.push({ key: row.key, secret: name, form, where: "decoded" });
      }
    }
  }
  return hits;
}
