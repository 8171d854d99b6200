import ssh2 from "ssh2";

/** Why a private key text is unusable (never quoting it), or undefined when ssh2 can load it. */
export function parseKey(text: string): string | undefined {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error)
    return `is not a usable private key (${parsed.message.replace(/\s+/g, " ").slice(0, 120)})`;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) return "is a public key; pass the private key";
  return undefined;
}
