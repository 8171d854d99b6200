/**
 * Connection settings shared by FilerArtifact and FilerLink: host, port,
 * user and pinned host keys are resolved in check (explicit > stack config
 * "backtest:filer*" > BTD_FILER_* env) and go into state; the private key is
 * a credential, read at op time and never copied into state by us.
 */
import type { OpContext, Props } from "../context.ts";
import { registerSecret } from "../redact.ts";
import { resolveSetting } from "../settings.ts";
import { isUnknown } from "../unknown.ts";
import type { Failures } from "../validate.ts";
import { type PinnedHostKey, parseHostKeyLine, splitHostKeys } from "./host-keys.ts";
import { parseKey } from "./parse-key.ts";
import { type FilerEndpoint, missingSetting } from "./session.ts";

export const DEFAULT_PORT = 22;

export interface EndpointInputs {
  host: string;
  port: number;
  user: string;
  hostKeys: string[];
}

export function resolveEndpoint(news: Props, ctx: OpContext, f: Failures): Partial<EndpointInputs> {
  const host = resolveSetting("filerHost", news.host, ctx.config);
  const portText = resolveSetting("filerPort", news.port, ctx.config, String(DEFAULT_PORT));
  const user = resolveSetting("filerUser", news.user, ctx.config);
  const out: Partial<EndpointInputs> = {};
  if (isUnknown(news.host)) out.host = news.host as string;
  else if (!host) f.add("host", "host is required (or set backtest:filerHost in the stack config)");
  else if (!/^[A-Za-z0-9.:_-]+$/.test(host))
    f.add("host", `host must be a host name or address, got ${JSON.stringify(host)}`);
  else out.host = host;
  if (isUnknown(news.port)) out.port = news.port as number;
  else {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      f.add("port", `port must be 1-65535, got ${JSON.stringify(portText)}`);
    else out.port = port;
  }
  if (isUnknown(news.user)) out.user = news.user as string;
  else if (!user) f.add("user", "user is required (or set backtest:filerUser in the stack config)");
  else if (!/^[A-Za-z0-9._-]+$/.test(user))
    f.add("user", `user must be an account name, got ${JSON.stringify(user)}`);
  else out.user = user;
  if (isUnknown(news.hostKeys)) out.hostKeys = news.hostKeys as string[];
  else {
    const raw =
      news.hostKeys !== undefined && news.hostKeys !== null
        ? news.hostKeys
        : splitHostKeys(resolveSetting("filerHostKeys", undefined, ctx.config) ?? "");
    const lines = typeof raw === "string" ? splitHostKeys(raw) : raw;
    if (!Array.isArray(lines) || lines.length === 0 || lines.some((l) => typeof l !== "string")) {
      f.add(
        "hostKeys",
        'hostKeys is required: the filer\'s public host keys ("ssh-ed25519 AAAA…"), e.g. from `ssh-keyscan`; no key is trusted on first use',
      );
    } else {
      lines.forEach((l: string, i: number) => {
        const parsed = parseHostKeyLine(l);
        if (typeof parsed === "string") f.add("hostKeys", `hostKeys[${i}] ${parsed}`);
      });
      out.hostKeys = (lines as string[]).map((l) => l.trim());
    }
  }
  if (news.privateKey !== undefined && !isUnknown(news.privateKey)) {
    const reason = typeof news.privateKey === "string" ? parseKey(news.privateKey) : "must be a string";
    if (reason) f.add("privateKey", `privateKey ${reason}`);
  }
  return out;
}

/** At op time: the endpoint from state plus the key from inputs or stack config. */
export function endpointFor(state: Props, ctx: OpContext, op: string): FilerEndpoint {
  const privateKey = resolveSetting("filerPrivateKey", state.privateKey, ctx.config);
  if (!privateKey) throw missingSetting(ctx.label, op, "filerPrivateKey");
  registerSecret(privateKey);
  const hostKeys = ((state.hostKeys as string[] | undefined) ?? [])
    .map(parseHostKeyLine)
    .filter((k): k is PinnedHostKey => typeof k !== "string");
  return {
    host: String(state.host),
    port: Number(state.port),
    user: String(state.user),
    privateKey,
    hostKeys,
  };
}
