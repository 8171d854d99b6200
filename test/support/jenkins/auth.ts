import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export type Permission = "read" | "extendedRead" | "configure" | "create" | "delete";
export const ALL_PERMISSIONS: readonly Permission[] = [
  "read",
  "extendedRead",
  "configure",
  "create",
  "delete",
];

/** Jenkins' Permission.getId() and its "Group/Name" title used in the 403 message. */
export const PERMISSION_INFO: Record<Permission, { id: string; title: string }> = {
  read: { id: "hudson.model.Hudson.Read", title: "Overall/Read" },
  extendedRead: { id: "hudson.model.Item.ExtendedRead", title: "Job/ExtendedRead" },
  configure: { id: "hudson.model.Item.Configure", title: "Job/Configure" },
  create: { id: "hudson.model.Item.Create", title: "Job/Create" },
  delete: { id: "hudson.model.Item.Delete", title: "Job/Delete" },
};

export interface UserSpec {
  name: string;
  apiToken?: string;
  password?: string;
  /** Defaults to every permission. */
  permissions?: Permission[];
}

export type Principal =
  | { kind: "anonymous"; name: "anonymous"; permissions: ReadonlySet<Permission> }
  | { kind: "user"; name: string; via: "token" | "password"; permissions: ReadonlySet<Permission> };

export type AuthResult = { ok: true; principal: Principal } | { ok: false; user: string };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  // Jenkins: EXTENDED_READ is implied by CONFIGURE.
  if (permission === "extendedRead" && principal.permissions.has("configure")) return true;
  return principal.permissions.has(permission);
}

export class Security {
  readonly users: ReadonlyMap<string, UserSpec>;
  readonly anonymous: ReadonlySet<Permission>;
  /** Winstone names the session cookie JSESSIONID.<instance hash>, not plain JSESSIONID. */
  readonly cookieName = `JSESSIONID.${randomBytes(4).toString("hex")}`;
  private readonly salt = randomBytes(16).toString("hex");
  private sessions = new Set<string>();

  constructor(users: UserSpec[], anonymous: Permission[]) {
    this.users = new Map(users.map((u) => [u.name, u]));
    this.anonymous = new Set(anonymous);
  }

  authenticate(req: IncomingMessage): AuthResult {
    const header = req.headers.authorization;
    if (header === undefined)
      return { ok: true, principal: { kind: "anonymous", name: "anonymous", permissions: this.anonymous } };
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (!match) return { ok: false, user: "" };
    const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const name = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? "" : decoded.slice(colon + 1);
    const user = this.users.get(name);
    if (!user) return { ok: false, user: name };
    const permissions = new Set(user.permissions ?? ALL_PERMISSIONS);
    if (user.apiToken !== undefined && same(secret, user.apiToken)) {
      return { ok: true, principal: { kind: "user", name, via: "token", permissions } };
    }
    if (user.password !== undefined && same(secret, user.password)) {
      return { ok: true, principal: { kind: "user", name, via: "password", permissions } };
    }
    return { ok: false, user: name };
  }

  sessionOf(req: IncomingMessage): string | undefined {
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === this.cookieName) {
        const id = part.slice(eq + 1).trim();
        if (this.sessions.has(id)) return id;
      }
    }
    return undefined;
  }

  newSession(): string {
    const id = `node0${randomBytes(12).toString("hex")}.node0`;
    this.sessions.add(id);
    return id;
  }

  /** A restart loses every web session, and with them every crumb issued so far. */
  dropSessions(): void {
    this.sessions = new Set();
  }

  // DefaultCrumbIssuer: SHA-256 of "user;sessionId" then the salt, in hex.
  crumb(principal: Principal, sessionId: string): string {
    return createHash("sha256").update(`${principal.name};${sessionId}`).update(this.salt).digest("hex");
  }

  crumbValid(principal: Principal, sessionId: string | undefined, crumb: string | undefined): boolean {
    if (sessionId === undefined || crumb === undefined) return false;
    return same(this.crumb(principal, sessionId), crumb);
  }
}
