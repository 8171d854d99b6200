/**
 * Secrets (private keys, API tokens) must never reach a log line, an error or
 * plain state. Ops register every secret they hold; every message the
 * provider emits goes through redact(), which also catches the base64 and hex
 * spellings a key can take on its way through a library.
 */
const secrets = new Set<string>();

const MIN_SECRET_LENGTH = 6;

export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  secrets.add(Buffer.from(value, "utf8").toString("base64"));
  secrets.add(Buffer.from(value, "utf8").toString("hex"));
  // A PEM key's body lines are themselves base64 of the key: hide each one.
  for (const line of value.split(/\r?\n/)) {
    if (line.length >= 16 && !line.startsWith("-----")) secrets.add(line.trim());
  }
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join("[secret]");
  }
  return out;
}
