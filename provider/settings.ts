/**
 * Provider-wide settings, resolved once in check(): explicit Args > stack
 * config (through the dynamic provider's configure(), keys "backtest:<name>")
 * > BTD_* environment variables (tests and CI) > built-in defaults. The
 * resolved value goes into the checked inputs, so a changed default shows in
 * preview. Credentials are the exception: they are read at op time from the
 * same sources and never copied into state unless the user passed them as
 * (secret) inputs.
 */
import type { StackConfig } from "./context.ts";

export const CONFIG_NAMESPACE = "backtest";

export function configKey(name: string): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}

export function envKey(name: string): string {
  return `BTD_${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

/** The first defined of: explicit value, stack config, environment, fallback. */
export function resolveSetting(
  name: string,
  explicit: unknown,
  config: StackConfig,
  fallback?: string,
): string | undefined {
  if (explicit !== undefined && explicit !== null && explicit !== "") return String(explicit);
  const fromConfig = config.get(configKey(name));
  if (fromConfig !== undefined && fromConfig !== "") return fromConfig;
  const fromEnv = process.env[envKey(name)];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return fallback;
}
