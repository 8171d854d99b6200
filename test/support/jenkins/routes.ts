import type { IncomingMessage } from "node:http";
import { applyTree, type Json, parseTree } from "./apijson.ts";
import { hasPermission, PERMISSION_INFO, type Permission, type Principal, type Security } from "./auth.ts";
import {
  empty,
  failure,
  headerText,
  html,
  json,
  methodNotAllowed,
  notFound,
  type Reply,
  sendError,
  serverError,
} from "./http.ts";
import { checkGoodName, javaTrim, messages } from "./names.ts";
import { reserialize } from "./reserialize.ts";
import { classOf, type Item, jobUrl, newItem, resolve } from "./store.ts";
import { FOLDER_ROOT, ITEM_CLASSES, isItemRoot, type Mode } from "./types.ts";
import { parseXml, type XmlElement } from "./xml.ts";

export interface RouteContext {
  base: string;
  mode: Mode;
  top: Map<string, Item>;
  security: Security;
}

export interface Routed {
  reply: Reply;
  user: string | undefined;
}

interface Target {
  segments: string[];
  item: Item | undefined;
  /** Children of the item (folder) or of Jenkins itself when `segments` is empty. */
  children: Map<string, Item> | undefined;
  action: string;
}

function parseTarget(ctx: RouteContext, pathname: string): Target | "missing" {
  const raw = pathname.split("/").slice(1);
  const segments: string[] = [];
  let i = 0;
  while (raw[i] === "job" && raw[i + 1] !== undefined && raw[i + 1] !== "") {
    segments.push(decodeURIComponent(raw[i + 1]!));
    i += 2;
  }
  const rest = raw.slice(i);
  while (rest.length > 0 && rest[rest.length - 1] === "") rest.pop();
  if (segments.length === 0) return { segments, item: undefined, children: ctx.top, action: rest.join("/") };
  const item = resolve(ctx.top, segments);
  if (!item) return "missing";
  return { segments, item, children: item.children, action: rest.join("/") };
}

/** AccessDeniedException3 as Jenkins reports it: 403 plus the who-am-I headers. */
function denied(principal: Principal, permission: Permission): Reply {
  const info = PERMISSION_INFO[permission];
  const title = principal.kind === "anonymous" ? "Authentication required" : "Access Denied";
  return html(403, title, `${principal.name} is missing the ${info.title} permission`, {
    "X-You-Are-Authenticated-As": headerText(principal.name),
    "X-You-Are-In-Group-Disabled":
      "JENKINS-39402: use -Dhudson.security.AccessDeniedException2.REPORT_GROUP_HEADERS=true or use /whoAmI to diagnose",
    "X-Required-Permission": info.id,
  });
}

type Decoded = { ok: true; text: string } | { ok: false; reply: Reply };

/**
 * Jenkins reads a posted config through the servlet Reader: the Content-Type charset decides, and
 * without one the servlet default ISO-8859-1 applies, so UTF-8 text arrives as mojibake.
 */
function decodeBody(body: Buffer, contentType: string | undefined): Decoded {
  const label = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (label === undefined || label === "iso-8859-1" || label === "latin1" || label === "iso8859-1") {
    return { ok: true, text: body.toString("latin1") };
  }
  try {
    return { ok: true, text: new TextDecoder(label).decode(body) };
  } catch {
    return { ok: false, reply: serverError(`java.io.UnsupportedEncodingException: ${label}`) };
  }
}

type Loaded = { ok: true; root: XmlElement; type: keyof typeof ITEM_CLASSES } | { ok: false; reply: Reply };

function load(text: string, failedTo: string): Loaded {
  const parsed = parseXml(text);
  if (!parsed.ok)
    return {
      ok: false,
      reply: serverError(
        `java.io.IOException: ${failedTo}\nCaused by: org.xml.sax.SAXParseException: ${parsed.error}`,
      ),
    };
  const name = parsed.root.name;
  if (!isItemRoot(name)) {
    return {
      ok: false,
      reply: serverError(`com.thoughtworks.xstream.mapper.CannotResolveClassException: ${name}`),
    };
  }
  return { ok: true, root: parsed.root, type: name };
}

function createItem(
  req: IncomingMessage,
  url: URL,
  target: Target,
  principal: Principal,
  body: Buffer,
): Reply {
  const children = target.children;
  if (!children) return notFound(url.pathname);
  if (!hasPermission(principal, "create")) return denied(principal, "create");
  const contentType = req.headers["content-type"];
  if (contentType === undefined) return failure(messages.noContentType);
  const isXml = contentType.startsWith("application/xml") || contentType.startsWith("text/xml");
  const rawName = url.searchParams.get("name");
  if (rawName === null) return failure(messages.nameRequired);
  const bad = checkGoodName(rawName);
  if (bad !== undefined) return failure(bad);
  const name = javaTrim(rawName);
  if (children.has(name)) return failure(messages.jobAlreadyExists(name));
  if (!isXml) {
    const mode = url.searchParams.get("mode");
    return failure(mode === null ? messages.noModeGiven : `No item type ‘${mode}’ is known`);
  }
  const decoded = decodeBody(body, contentType);
  if (!decoded.ok) return decoded.reply;
  const loaded = load(decoded.text, "Failed to persist config.xml");
  if (!loaded.ok) return loaded.reply;
  children.set(name, newItem(name, loaded.type, decoded.text, loaded.root));
  return empty(200);
}

function configXml(
  ctx: RouteContext,
  req: IncomingMessage,
  item: Item,
  principal: Principal,
  body: Buffer,
): Reply {
  if (req.method === "GET") {
    if (!hasPermission(principal, "extendedRead")) return denied(principal, "extendedRead");
    const text = ctx.mode === "modern" ? reserialize(item.parsed, item.managedActions) : item.configXml;
    return { status: 200, headers: { "Content-Type": "application/xml" }, body: Buffer.from(text, "utf8") };
  }
  if (req.method !== "POST") return sendError(400, "Bad Request", req.url ?? "");
  if (!hasPermission(principal, "configure")) return denied(principal, "configure");
  const decoded = decodeBody(body, req.headers["content-type"]);
  if (!decoded.ok) return decoded.reply;
  const loaded = load(decoded.text, "Failed to process config.xml");
  if (!loaded.ok) return loaded.reply;
  if (loaded.type !== item.root) {
    return serverError(
      `java.io.IOException: Expecting class ${classOf(item)} but got class ${ITEM_CLASSES[loaded.type]} instead`,
    );
  }
  item.configXml = decoded.text;
  item.parsed = loaded.root;
  return empty(200);
}

function parentUrl(ctx: RouteContext, target: Target): string {
  return jobUrl(ctx.base, target.segments.slice(0, -1));
}

function deleteItem(ctx: RouteContext, target: Target, principal: Principal, viaDelete: boolean): Reply {
  const item = target.item!;
  if (!hasPermission(principal, "delete")) return denied(principal, "delete");
  const parent =
    target.segments.length === 1 ? ctx.top : resolve(ctx.top, target.segments.slice(0, -1))?.children;
  parent?.delete(item.name);
  return viaDelete ? empty(204) : empty(302, { Location: parentUrl(ctx, target) });
}

function rename(ctx: RouteContext, url: URL, target: Target, principal: Principal): Reply {
  const item = target.item!;
  // AbstractItem.doCheckNewName: without Configure, Create on the parent and Delete stand in for it.
  if (!hasPermission(principal, "configure")) {
    if (!hasPermission(principal, "create")) return denied(principal, "create");
    if (!hasPermission(principal, "delete")) return denied(principal, "delete");
  }
  const raw = url.searchParams.get("newName");
  const newName = raw === null ? null : javaTrim(raw);
  const bad = checkGoodName(newName);
  if (bad !== undefined || newName === null) return failure(bad ?? messages.noName);
  if (newName === item.name) return failure(messages.newNameUnchanged);
  const siblings =
    target.segments.length === 1 ? ctx.top : resolve(ctx.top, target.segments.slice(0, -1))?.children;
  if (!siblings) return notFound(url.pathname);
  if (siblings.has(newName)) return failure(messages.newNameInUse(newName));
  if (item.building) return failure(messages.noRenameWhileBuilding);
  siblings.delete(item.name);
  item.name = newName;
  siblings.set(newName, item);
  // HttpResponses.redirectTo("../" + name), resolved against .../job/OLD/confirmRename.
  return empty(302, { Location: `${parentUrl(ctx, target)}job/${encodeURIComponent(newName)}` });
}

function itemSummary(ctx: RouteContext, segments: string[], item: Item): { [key: string]: Json } {
  const summary: { [key: string]: Json } = {
    _class: classOf(item),
    name: item.name,
    url: jobUrl(ctx.base, segments),
  };
  if (item.root !== FOLDER_ROOT) summary.color = item.builds.length > 0 ? "blue" : "notbuilt";
  return summary;
}

function apiJson(ctx: RouteContext, target: Target): Json {
  const listing = (children: Map<string, Item>): Json[] =>
    [...children.values()].map((child) => itemSummary(ctx, [...target.segments, child.name], child));
  const item = target.item;
  if (!item) {
    return {
      _class: "hudson.model.Hudson",
      description: null,
      jobs: listing(ctx.top),
      mode: "NORMAL",
      nodeDescription: "the Jenkins controller's built-in node",
      nodeName: "",
      numExecutors: 2,
      url: ctx.base,
      useCrumbs: true,
      useSecurity: true,
    };
  }
  const common: { [key: string]: Json } = {
    _class: classOf(item),
    description: null,
    displayName: item.name,
    fullDisplayName: target.segments.join(" » "),
    fullName: target.segments.join("/"),
    name: item.name,
    url: jobUrl(ctx.base, target.segments),
  };
  if (item.children) return { ...common, jobs: listing(item.children) };
  const buildClass =
    item.root === "flow-definition"
      ? "org.jenkinsci.plugins.workflow.job.WorkflowRun"
      : "hudson.model.FreeStyleBuild";
  const builds: Json[] = [...item.builds].reverse().map((b) => ({
    _class: buildClass,
    number: b.number,
    url: `${jobUrl(ctx.base, target.segments)}${b.number}/`,
  }));
  return {
    ...common,
    buildable: true,
    builds,
    color: item.builds.length > 0 ? "blue" : "notbuilt",
    inQueue: false,
    nextBuildNumber: item.nextBuildNumber,
  };
}

/** Everything after authentication, CSRF and Overall/Read: Stapler's dispatch onto the model. */
function dispatch(
  ctx: RouteContext,
  req: IncomingMessage,
  url: URL,
  principal: Principal,
  body: Buffer,
): Reply {
  const target = parseTarget(ctx, url.pathname);
  if (target === "missing") return notFound(url.pathname);
  const method = req.method ?? "GET";
  const { action, item } = target;

  if (action === "crumbIssuer/api/json" && target.segments.length === 0) {
    const existing = ctx.security.sessionOf(req);
    const session = existing ?? ctx.security.newSession();
    const headers: Record<string, string> = existing
      ? {}
      : { "Set-Cookie": `${ctx.security.cookieName}=${session}; Path=/; HttpOnly` };
    return json(
      {
        _class: "hudson.security.csrf.DefaultCrumbIssuer",
        crumb: ctx.security.crumb(principal, session),
        crumbRequestField: "Jenkins-Crumb",
      },
      headers,
    );
  }
  if (action === "api/json") {
    if (method !== "GET") return sendError(405, "Method Not Allowed", url.pathname);
    const value = apiJson(ctx, target);
    const tree = url.searchParams.get("tree");
    return json(tree === null ? value : applyTree(value, parseTree(tree)));
  }
  if (action === "createItem") {
    if (method !== "POST") return methodNotAllowed();
    return createItem(req, url, target, principal, body);
  }
  if (!item) {
    if (action === "" && method === "GET") return html(200, "Dashboard", "Jenkins");
    return notFound(url.pathname);
  }
  switch (action) {
    case "config.xml":
      return configXml(ctx, req, item, principal, body);
    case "doDelete":
      return method === "POST" ? deleteItem(ctx, target, principal, false) : methodNotAllowed();
    case "confirmRename":
    case "doRename":
      return method === "POST" ? rename(ctx, url, target, principal) : methodNotAllowed();
    case "":
      if (method === "DELETE") return deleteItem(ctx, target, principal, true);
      if (method === "GET") return html(200, item.name, target.segments.join("/"));
      return sendError(405, "Method Not Allowed", url.pathname);
    default:
      return notFound(url.pathname);
  }
}

/** Jenkins' filter chain then Stapler: Basic auth (401) → crumb on POST (403) → Overall/Read → dispatch. */
export function route(ctx: RouteContext, req: IncomingMessage, url: URL, body: Buffer): Routed {
  const auth = ctx.security.authenticate(req);
  if (!auth.ok) {
    const reply = sendError(401, `Invalid password/token for user: ${auth.user}`, url.pathname);
    reply.headers["WWW-Authenticate"] = 'Basic realm="Jenkins"';
    return { reply, user: undefined };
  }
  const principal = auth.principal;
  const user = principal.name;
  // API-token requests are exempt from CSRF protection (since 2.96); everyone else needs a crumb
  // issued to the same user in the same web session.
  const tokenRequest = principal.kind === "user" && principal.via === "token";
  if (req.method === "POST" && !tokenRequest) {
    const header = req.headers["jenkins-crumb"];
    const crumb =
      (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get("Jenkins-Crumb") ?? undefined;
    if (!ctx.security.crumbValid(principal, ctx.security.sessionOf(req), crumb)) {
      return { reply: sendError(403, "No valid crumb was included in the request", url.pathname), user };
    }
  }
  if (!hasPermission(principal, "read")) return { reply: denied(principal, "read"), user };
  return { reply: dispatch(ctx, req, url, principal, body), user };
}
