/**
 * The only code that talks to Jenkins. It knows URLs, auth (API token, or
 * password with crumb and session cookie) and Jenkins' error conventions;
 * callers see typed results and errors that carry Jenkins' own words
 * (`X-Error`, `X-Required-Permission`).
 *
 * One keep-alive undici Pool per Jenkins origin is shared by every resource
 * in the provider process: Pulumi runs resources in parallel, and a pool of
 * 8 connections bounds what we ask of Jenkins while reusing connections
 * instead of paying a TCP (and TLS) handshake per request.
 */
import { Pool, errors as undiciErrors } from "undici";
import { BacktestDeployError, type ErrorFacts } from "../errors.ts";
import type { Progress } from "../progress.ts";
import { registerSecret } from "../redact.ts";
import { type RetryPolicy, withRetry } from "../retry.ts";
import { jobUrlPath } from "./names.ts";

export const JENKINS_CONNECTIONS = 8;

export interface JenkinsCredentials {
  username: string;
  /** Recommended: no crumb needed. */
  apiToken?: string;
  /** Needs a crumb bound to a web session (JSESSIONID) for every POST. */
  password?: string;
}

/** Plain facts of a failed request, kept on the error for callers and tests. */
export interface HttpFailure {
  method: string;
  /** Without credentials (we never put any in URLs). */
  url: string;
  /** 0 when no answer came (connection refused, reset). */
  status: number;
  xError: string | undefined;
  headers: Record<string, string>;
  retryable: boolean;
  retryAfterMs: number | undefined;
}

export class JenkinsHttpError extends BacktestDeployError {
  readonly http: HttpFailure;
  constructor(facts: ErrorFacts, http: HttpFailure) {
    super(facts);
    this.http = http;
  }
}
JenkinsHttpError.prototype.name = "JenkinsHttpError";

/** Transient: connection errors and 502/503/504 (Jenkins restarting, a proxy in front of it). */
export const JENKINS_RETRY: RetryPolicy = {
  name: "Jenkins",
  maxAttempts: 8,
  baseDelayMs: 250,
  maxDelayMs: 5000,
  classify(err) {
    const http = (err as { http?: HttpFailure }).http;
    if (!http?.retryable) return { retry: false };
    return http.retryAfterMs === undefined ? { retry: true } : { retry: true, waitMs: http.retryAfterMs };
  },
};

const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: JENKINS_CONNECTIONS, keepAliveTimeout: 30_000 });
    pools.set(origin, pool);
  }
  return pool;
}

/** Closes every pool (tests and benchmarks; the provider process just exits). */
export async function closeJenkinsPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

interface Crumb {
  field: string;
  value: string;
  cookie: string | undefined;
}
// Crumbs are bound to a session, which survives between ops of one process.
const crumbs = new Map<string, Promise<Crumb | undefined>>();

export interface ClientContext {
  /** "<Kind> <name>", for errors. */
  resource?: string;
  op?: string;
  progress?: Progress;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.min(60_000, Math.max(0, seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(60_000, Math.max(0, at - Date.now()));
}

/** Jenkins' error pages are HTML; a line of their text helps when there is no X-Error. */
function bodyGist(body: string): string {
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Headers in which Jenkins explains a 401 or 403, with their usual spelling. */
const PERMISSION_HEADERS: Record<string, string> = {
  "x-you-are-authenticated-as": "X-You-Are-Authenticated-As",
  "x-required-permission": "X-Required-Permission",
  "www-authenticate": "WWW-Authenticate",
};

export class JenkinsClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly creds: JenkinsCredentials;
  private readonly ctx: ClientContext;

  constructor(baseUrl: string, creds: JenkinsCredentials, ctx: ClientContext = {}) {
    const u = new URL(baseUrl);
    if (u.username || u.password) {
      throw new BacktestDeployError({
        code: "BTD_JENKINS_URL_CREDENTIALS",
        resource: ctx.resource,
        op: ctx.op,
        reason: "the Jenkins URL carries credentials",
        hint: "pass username and apiToken as inputs or stack config, not in the URL",
      });
    }
    this.origin = u.origin;
    this.basePath = u.pathname.endsWith("/") ? u.pathname : `${u.pathname}/`;
    this.baseUrl = `${this.origin}${this.basePath}`;
    this.creds = creds;
    this.ctx = ctx;
    registerSecret(creds.apiToken);
    registerSecret(creds.password);
    registerSecret(this.basicAuth());
  }

  private basicAuth(): string {
    const secret = this.creds.apiToken ?? this.creds.password ?? "";
    return `Basic ${Buffer.from(`${this.creds.username}:${secret}`, "utf8").toString("base64")}`;
  }

  /** URL of an item: `team/nightly` → `<base>job/team/job/nightly/`. */
  itemUrl(segments: readonly string[]): string {
    return `${this.baseUrl}${jobUrlPath(segments)}`;
  }

  private async once(
    method: string,
    relPath: string,
    body?: string,
    extra: Record<string, string> = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...extra };
    // No username: anonymous, as Jenkins allows read-only setups to be.
    if (this.creds.username !== "") headers.authorization = this.basicAuth();
    if (body !== undefined) headers["content-type"] = "application/xml; charset=utf-8";
    if (method === "POST" && this.creds.apiToken === undefined && this.creds.password !== undefined) {
      const crumb = await this.crumb();
      if (crumb) {
        headers[crumb.field] = crumb.value;
        if (crumb.cookie) headers.cookie = crumb.cookie;
      }
    }
    const path = `${this.basePath}${relPath}`;
    try {
      const res = await poolFor(this.origin).request({
        method: method as "GET" | "POST",
        path,
        headers,
        body: body === undefined ? (method === "POST" ? "" : undefined) : Buffer.from(body, "utf8"),
      });
      return { status: res.statusCode, headers: flatHeaders(res.headers), body: await res.body.text() };
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      const connection = CONNECTION_CODES.has(code) || err instanceof undiciErrors.SocketError;
      const reason = `${method} ${this.origin}${path} failed: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ""}`;
      throw new JenkinsHttpError(
        {
          code: "BTD_JENKINS_CONNECTION",
          resource: this.ctx.resource,
          op: this.ctx.op,
          reason,
          hint: connection ? "check that Jenkins is up and the url is right" : undefined,
          cause: err,
        },
        {
          method,
          url: `${this.origin}${path}`,
          status: 0,
          xError: undefined,
          headers: {},
          retryable: connection,
          retryAfterMs: undefined,
        },
      );
    }
  }

  private async crumb(): Promise<Crumb | undefined> {
    const key = `${this.baseUrl} ${this.creds.username}`;
    let pending = crumbs.get(key);
    if (!pending) {
      pending = this.fetchCrumb();
      crumbs.set(key, pending);
      pending.catch(() => crumbs.delete(key));
    }
    return pending;
  }

  private async fetchCrumb(): Promise<Crumb | undefined> {
    const a = await this.once("GET", "crumbIssuer/api/json");
    // No crumb issuer: CSRF protection is off, POSTs need no crumb.
    if (a.status === 404) return undefined;
    if (a.status !== 200) throw this.failure("GET", "crumbIssuer/api/json", a);
    const json = JSON.parse(a.body) as { crumb?: string; crumbRequestField?: string };
    const cookie = (a.headers["set-cookie"] ?? "")
      .split(/,\s*(?=[A-Za-z0-9_.-]+=)/)
      .map((c) => c.split(";")[0]?.trim() ?? "")
      .filter((c) => /^JSESSIONID/i.test(c))
      .join("; ");
    if (!json.crumb || !json.crumbRequestField) return undefined;
    registerSecret(json.crumb);
    return { field: json.crumbRequestField.toLowerCase(), value: json.crumb, cookie: cookie || undefined };
  }

  private forgetCrumb(): void {
    crumbs.delete(`${this.baseUrl} ${this.creds.username}`);
  }

  /** One request with retries on transient failures; every non-accepted status becomes a JenkinsHttpError. */
  private async request(
    method: "GET" | "POST",
    relPath: string,
    opts: { body?: string; accept: (status: number) => boolean },
  ): Promise<Answer> {
    return withRetry(
      JENKINS_RETRY,
      async () => {
        let a = await this.once(method, relPath, opts.body);
        if (
          a.status === 403 &&
          /crumb/i.test(a.body + (a.headers["x-error"] ?? "")) &&
          this.creds.apiToken === undefined
        ) {
          // The session behind the crumb is gone (Jenkins restarted): fetch a new one, once.
          this.forgetCrumb();
          a = await this.once(method, relPath, opts.body);
        }
        if (opts.accept(a.status)) return a;
        throw this.failure(method, relPath, a);
      },
      this.ctx.progress,
    );
  }

  private failure(method: string, relPath: string, a: Answer): JenkinsHttpError {
    const url = `${this.origin}${this.basePath}${relPath}`;
    const xError = a.headers["x-error"];
    const said = [
      xError !== undefined ? `X-Error: ${xError || "(empty)"}` : undefined,
      ...Object.entries(PERMISSION_HEADERS)
        .filter(([h]) => a.headers[h] !== undefined)
        .map(([h, spelled]) => `${spelled}: ${a.headers[h]}`),
      xError ? undefined : bodyGist(a.body) || undefined,
    ].filter(Boolean);
    const retryable = a.status === 502 || a.status === 503 || a.status === 504;
    const { code, hint } = classifyStatus(a, this.creds);
    return new JenkinsHttpError(
      {
        code,
        resource: this.ctx.resource,
        op: this.ctx.op,
        reason: `${method} ${url} answered ${a.status}${said.length ? `: ${said.join("; ")}` : ""}`,
        hint,
      },
      {
        method,
        url,
        status: a.status,
        xError,
        headers: a.headers,
        retryable,
        retryAfterMs: retryable ? retryAfterMs(a.headers["retry-after"]) : undefined,
      },
    );
  }

  /** config.xml as Jenkins answers it, or undefined when there is no such item. */
  async getConfig(segments: readonly string[]): Promise<string | undefined> {
    const a = await this.request("GET", `${jobUrlPath(segments)}config.xml`, {
      accept: (s) => s === 200 || s === 404,
    });
    return a.status === 404 ? undefined : a.body;
  }

  /** Jenkins' `_class` of an item, or undefined when there is none. */
  async itemClass(segments: readonly string[]): Promise<string | undefined> {
    const a = await this.request("GET", `${jobUrlPath(segments)}api/json?tree=_class`, {
      accept: (s) => s === 200 || s === 404,
    });
    if (a.status === 404) return undefined;
    return (JSON.parse(a.body) as { _class?: string })._class ?? "";
  }

  /** `createItem` in a folder (or the root). Jenkins answers 400 "already exists" if the name is taken. */
  async createItem(parent: readonly string[], name: string, xml: string): Promise<void> {
    await this.request("POST", `${jobUrlPath(parent)}createItem?name=${encodeURIComponent(name)}`, {
      body: xml,
      accept: (s) => s === 200,
    });
  }

  async postConfig(segments: readonly string[], xml: string): Promise<void> {
    await this.request("POST", `${jobUrlPath(segments)}config.xml`, { body: xml, accept: (s) => s === 200 });
  }

  /** confirmRename keeps the job's builds, which a delete and create would lose. */
  async rename(segments: readonly string[], newName: string): Promise<void> {
    await this.request(
      "POST",
      `${jobUrlPath(segments)}confirmRename?newName=${encodeURIComponent(newName)}`,
      {
        accept: (s) => s === 200 || s === 302 || s === 303,
      },
    );
  }

  /** Returns false when the item was already gone. */
  async deleteItem(segments: readonly string[]): Promise<boolean> {
    const a = await this.request("POST", `${jobUrlPath(segments)}doDelete`, {
      accept: (s) => s === 200 || s === 302 || s === 303 || s === 404,
    });
    return a.status !== 404;
  }
}

function classifyStatus(a: Answer, creds: JenkinsCredentials): { code: string; hint?: string } {
  const auth = creds.apiToken !== undefined ? "API token" : "password";
  switch (a.status) {
    case 400:
      return {
        code: "BTD_JENKINS_REJECTED",
        hint: "Jenkins refused the request for the reason it gives (X-Error)",
      };
    case 401:
      return {
        code: "BTD_JENKINS_UNAUTHORIZED",
        hint: `check the username and ${auth} (an API token is made on the user's Security page in Jenkins)`,
      };
    case 403:
      if (/crumb/i.test(a.body)) {
        return {
          code: "BTD_JENKINS_CRUMB",
          hint: "use an API token instead of a password; tokens need no crumb",
        };
      }
      return {
        code: "BTD_JENKINS_FORBIDDEN",
        hint: a.headers["x-required-permission"]
          ? `grant ${a.headers["x-you-are-authenticated-as"] ?? "this user"} the permission ${a.headers["x-required-permission"]}`
          : "grant the user the permission named by Jenkins, or check the username",
      };
    case 404:
      return { code: "BTD_JENKINS_NOT_FOUND", hint: "check the job path and the Jenkins url" };
    case 500:
      return {
        code: "BTD_JENKINS_SERVER_ERROR",
        hint: "Jenkins could not load the config: check that the root element is an item type whose plugin is installed and that the XML is what the template meant",
      };
    case 502:
    case 503:
    case 504:
      return {
        code: "BTD_JENKINS_UNAVAILABLE",
        hint: "Jenkins (or a proxy in front of it) is unavailable; retry when it is back",
      };
    default:
      return { code: "BTD_JENKINS_HTTP" };
  }
}
