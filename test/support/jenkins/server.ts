import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ALL_PERMISSIONS, type Permission, Security, type UserSpec } from "./auth.ts";
import { type FaultKind, FaultState, type Faults } from "./faults.ts";
import { gettingReady, injectedUnavailable, type Reply } from "./http.ts";
import { declarativeActions, parameterNames } from "./reserialize.ts";
import { type RouteContext, route } from "./routes.ts";
import { type Item, resolve, splitPath, walk } from "./store.ts";
import { ITEM_CLASSES, type ItemRoot, JENKINS_VERSION, type Mode } from "./types.ts";
import { parseXml } from "./xml.ts";

export interface JenkinsOptions {
  /** "modern" (default) plays Jenkins 2.568+, which re-serializes config.xml on GET; "legacy" echoes it. */
  mode?: Mode;
  /** Added to the default `admin`; a user named `admin` replaces it. */
  users?: UserSpec[];
  /** What anonymous may do; default nothing (not even Overall/Read). */
  anonymous?: Permission[];
  latencyMs?: number;
}

export interface RequestLogEntry {
  method: string;
  /** Raw (still percent-encoded) path. */
  path: string;
  /** Raw query string without "?", "" when none. */
  query: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  /** POST or DELETE. */
  write: boolean;
  /** Authenticated user, "anonymous", or undefined when the credentials were refused. */
  user: string | undefined;
  fault?: FaultKind;
}

export interface JobDump {
  /** Root element of the stored config, e.g. "flow-definition". */
  type: ItemRoot;
  /** Jenkins' _class, e.g. "org.jenkinsci.plugins.workflow.job.WorkflowJob". */
  className: string;
  /** Stored config text (as decoded from the request), not the re-serialized form. */
  configXml: string;
  builds: Array<{ number: number; timestamp: number }>;
  building: boolean;
}

export interface JenkinsStandIn {
  /** With a trailing slash, e.g. http://127.0.0.1:PORT/ */
  url: string;
  port: number;
  admin: { name: string; apiToken: string; password: string };
  requests(): RequestLogEntry[];
  clearRequestLog(): void;
  /** Every item by full path ("team/backtests/deploy"), folders included. */
  jobs(): Map<string, JobDump>;
  /** Stored config text of one item, undefined when it does not exist. */
  config(path: string): string | undefined;
  faults: Faults;
  /** Adds a build to the history (returns its number); pipelines gain the declarative <actions>. */
  simulateBuild(path: string): number;
  /** Changes a stored config the way a person saving the job in the web UI would. */
  editInUi(path: string, edit: (xml: string) => string): void;
  setMode(mode: Mode): void;
  readonly mode: Mode;
  /** A building job refuses rename. */
  setBuilding(path: string, building: boolean): void;
  stop(): Promise<void>;
}

export const DEFAULT_ADMIN = {
  name: "admin",
  apiToken: "11aa22bb33cc44dd55ee66ff77889900aa",
  password: "admin-password",
} as const;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolveBody(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export async function startJenkins(options: JenkinsOptions = {}): Promise<JenkinsStandIn> {
  const users = new Map<string, UserSpec>([
    [DEFAULT_ADMIN.name, { ...DEFAULT_ADMIN, permissions: [...ALL_PERMISSIONS] }],
  ]);
  for (const u of options.users ?? []) users.set(u.name, u);
  const security = new Security([...users.values()], options.anonymous ?? []);
  const top = new Map<string, Item>();
  let mode: Mode = options.mode ?? "modern";
  let bootId = randomBytes(4).toString("hex");
  const log: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const faults = new FaultState(options.latencyMs ?? 0, () => {
    security.dropSessions();
    bootId = randomBytes(4).toString("hex");
  });

  let base = "";
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    const entry: RequestLogEntry = {
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      status: 0,
      write: method === "POST" || method === "DELETE",
      user: undefined,
    };
    log.push(entry);
    const decision = faults.decide(method, url.pathname);
    await delay(decision.latencyMs);
    const fault = decision.fault;
    if (fault?.kind === "reset" && !fault.afterHandling) {
      entry.fault = "reset";
      req.socket.destroy();
      return;
    }
    const body = await readBody(req);
    let reply: Reply;
    if (fault?.kind === "restarting" || (fault === undefined && faults.restarting)) {
      entry.fault = "restarting";
      reply = gettingReady();
    } else if (fault?.kind === "unavailable") {
      entry.fault = "unavailable";
      reply = injectedUnavailable(fault.status);
    } else {
      const ctx: RouteContext = { base, mode, top, security };
      const routed = route(ctx, req, url, body);
      entry.user = routed.user;
      reply = routed.reply;
    }
    if (fault?.kind === "reset") {
      entry.fault = "reset";
      req.socket.destroy();
      return;
    }
    entry.status = reply.status;
    res.writeHead(reply.status, {
      ...reply.headers,
      "X-Jenkins": JENKINS_VERSION[mode],
      "X-Jenkins-Session": bootId,
      "X-Content-Type-Options": "nosniff",
      "Content-Length": String(reply.body.length),
    });
    res.end(reply.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the stand-in must show up in the test as a 500, not as a hang.
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(err instanceof Error ? err.stack : err));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/`;

  const find = (path: string): Item => {
    const item = resolve(top, splitPath(path));
    if (!item) throw new Error(`Jenkins stand-in: no item at ${path}`);
    return item;
  };

  return {
    url: base,
    port,
    admin: { ...DEFAULT_ADMIN },
    requests: () => log.map((e) => ({ ...e })),
    clearRequestLog: () => {
      log.length = 0;
    },
    jobs: () =>
      new Map(
        walk(top).map(([path, item]) => [
          path,
          {
            type: item.root,
            className: ITEM_CLASSES[item.root],
            configXml: item.configXml,
            builds: item.builds.map((b) => ({ ...b })),
            building: item.building,
          },
        ]),
      ),
    config: (path) => resolve(top, splitPath(path))?.configXml,
    faults,
    simulateBuild: (path) => {
      const item = find(path);
      if (item.children) throw new Error(`Jenkins stand-in: ${path} is a folder and cannot build`);
      const number = item.nextBuildNumber++;
      item.builds.push({ number, timestamp: Date.now() });
      if (item.root === "flow-definition")
        item.managedActions = declarativeActions(parameterNames(item.parsed));
      return number;
    },
    editInUi: (path, edit) => {
      const item = find(path);
      const next = edit(item.configXml);
      const parsed = parseXml(next);
      if (!parsed.ok)
        throw new Error(`Jenkins stand-in: edited config of ${path} is not well-formed: ${parsed.error}`);
      if (parsed.root.name !== item.root) {
        throw new Error(
          `Jenkins stand-in: the web UI cannot change ${path} from ${item.root} to ${parsed.root.name}`,
        );
      }
      item.configXml = next;
      item.parsed = parsed.root;
    },
    setMode: (next) => {
      mode = next;
    },
    get mode() {
      return mode;
    },
    setBuilding: (path, building) => {
      find(path).building = building;
    },
    stop: async () => {
      faults.dispose();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
