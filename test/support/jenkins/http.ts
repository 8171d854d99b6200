// Shapes of the answers Jenkins (Jetty + Stapler) gives, kept apart from the routing so that
// the fault layer can drop or replace any of them.

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Node writes header strings as Latin-1 bytes. Jenkins' messages use U+2018/U+2019/U+201C/U+201D,
 * which jenkins-api.md requires in X-Error: the header carries their UTF-8 bytes, so a client reads
 * it with Buffer.from(value, "latin1").toString("utf8").
 */
export function headerText(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

export function html(
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  const body = `<!DOCTYPE html><html><head><title>${escapeHtml(title)} [Jenkins]</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return {
    status,
    headers: { "Content-Type": "text/html;charset=utf-8", ...headers },
    body: Buffer.from(body, "utf8"),
  };
}

export function empty(status: number, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: Buffer.alloc(0) };
}

export function json(value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status: 200,
    headers: { "Content-Type": "application/json;charset=utf-8", ...headers },
    body: Buffer.from(JSON.stringify(value), "utf8"),
  };
}

/** A hudson.model.Failure: Stapler renders error.jelly, which sets 400 and X-Error. */
export function failure(message: string): Reply {
  return html(400, "Error", message, { "X-Error": headerText(message) });
}

/** An exception escaping a Stapler action: Jenkins' "Oops!" page with status 500. */
export function serverError(exception: string): Reply {
  const body = `<!DOCTYPE html><html><head><title>Jenkins [Jenkins]</title></head><body><h1>Oops!</h1><p>A problem occurred while processing the request.</p><pre>${escapeHtml(exception)}</pre></body></html>`;
  return {
    status: 500,
    headers: { "Content-Type": "text/html;charset=utf-8" },
    body: Buffer.from(body, "utf8"),
  };
}

/** HttpServletResponse.sendError as Jetty renders it. */
export function sendError(status: number, message: string, uri: string): Reply {
  const body = `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n<title>Error ${status} ${escapeHtml(message)}</title>\n</head>\n<body>\n<h2>HTTP ERROR ${status} ${escapeHtml(message)}</h2>\n<table>\n<tr><th>URI:</th><td>${escapeHtml(uri)}</td></tr>\n<tr><th>STATUS:</th><td>${status}</td></tr>\n<tr><th>MESSAGE:</th><td>${escapeHtml(message)}</td></tr>\n<tr><th>SERVLET:</th><td>Stapler</td></tr>\n</table>\n\n</body>\n</html>\n`;
  return { status, headers: { "Content-Type": "text/html;charset=utf-8" }, body: Buffer.from(body, "utf8") };
}

export function notFound(uri: string): Reply {
  return sendError(404, "Not Found", uri);
}

/** @RequirePOST on a GET. */
export function methodNotAllowed(): Reply {
  return html(
    405,
    "This URL requires POST",
    "This URL requires POST. The URL you're trying to access requires that requests be sent using POST (like a form submission).",
    { Allow: "POST" },
  );
}

export function gettingReady(): Reply {
  const body = `<!DOCTYPE html><html><head><title>Starting Jenkins</title></head><body><div class="app-jenkins-booting"><h1 class="loading">Please wait while Jenkins is getting ready to work</h1><p class="restarting">Your browser will reload automatically when Jenkins is ready</p></div></body></html>`;
  return {
    status: 503,
    headers: {
      "Content-Type": "text/html;charset=UTF-8",
      Expires: "0",
      "Cache-Control": "no-cache,no-store,must-revalidate",
    },
    body: Buffer.from(body, "utf8"),
  };
}

/** What a reverse proxy answers when Jenkins behind it does not. */
export function injectedUnavailable(status: number): Reply {
  const reason = status === 502 ? "Bad Gateway" : status === 504 ? "Gateway Timeout" : "Service Unavailable";
  return {
    status,
    headers: { "Content-Type": "text/plain;charset=utf-8" },
    body: Buffer.from(`${status} ${reason}\n`, "utf8"),
  };
}
