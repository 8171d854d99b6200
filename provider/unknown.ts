/**
 * The string Pulumi's dynamic-provider host puts in place of a value that is
 * not known yet (an output of a resource that will change in this update).
 * check() and diff() see it during preview and must treat it as "will be
 * known at deploy", never as a real value.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}
