// Jenkins.checkGoodName (jenkinsci/jenkins core, jenkins/model/Jenkins.java) and
// the texts of hudson/model/Messages.properties, so X-Error matches Jenkins word for word.

export const UNSAFE_CHARS = "?*/\\%!@#$^&|<>[]:;";

export const messages = {
  noName: "No name is specified",
  notAllowedName: (name: string): string => `“${name}” is not an allowed name`,
  controlCode: (printable: string): string => `No control code is allowed: ${printable}`,
  unsafeChar: (ch: string): string => `‘${ch}’ is an unsafe character`,
  trailingDot: "A name cannot end with ‘.’",
  jobAlreadyExists: (name: string): string => `A job already exists with the name ‘${name}’`,
  newNameInUse: (name: string): string => `The name “${name}” is already in use.`,
  newNameUnchanged: "The new name is the same as the current name.",
  noRenameWhileBuilding: "Unable to rename a job while it is building.",
  noContentType: "No Content-Type header set",
  nameRequired: "Query parameter 'name' is required",
  noModeGiven: "No mode given",
} as const;

// Java's Character.isISOControl: U+0000..U+001F and U+007F..U+009F.
function isIsoControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

// Jenkins writes each control char as "\u" + its DECIMAL code + ";" (toPrintableName).
function toPrintableName(name: string): string {
  let out = "";
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    out += isIsoControl(code) ? `\\u${code};` : ch;
  }
  return out;
}

/** Returns Jenkins' reason text when `name` is refused, undefined when it is good. */
export function checkGoodName(name: string | null | undefined): string | undefined {
  if (name === null || name === undefined || name === "") return messages.noName;
  // Java's String.trim strips chars <= U+0020 only.
  const trimmed = javaTrim(name);
  if (trimmed === ".") return messages.notAllowedName(".");
  if (trimmed === "..") return messages.notAllowedName("..");
  for (const ch of name) {
    if (isIsoControl(ch.codePointAt(0) ?? 0)) return messages.controlCode(toPrintableName(name));
    if (UNSAFE_CHARS.includes(ch)) return messages.unsafeChar(ch);
  }
  if (trimmed.endsWith(".")) return messages.trailingDot;
  return undefined;
}

export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}
