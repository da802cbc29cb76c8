import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";
import { newRequestState, runWithRequest } from "../observability/request-context.js";
import { pathOf, type Handler } from "./handler.js";

/** Probes and scrapes that succeed are logged at debug: at info they would drown the log. */
const QUIET_ROUTES = new Set(["healthz", "readyz", "metrics"]);

/**
 * Gives every request an id (the caller's X-Request-Id when it is usable, else a new one),
 * echoes it in the response, makes it the context of every log line written meanwhile, and
 * writes one line per request once the response is done: id, actor, GraphQL operation, HTTP
 * status and duration. Refused requests (401, 404, 413, CSRF, CORS) get their line too.
 */
export function withRequestLog(logger: Logger, metrics: Metrics, handler: Handler): Handler {
  return (req, res) => {
    const state = newRequestState(req.headers);
    const started = process.hrtime.bigint();
    res.setHeader("x-request-id", state.requestId);
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = pathOf(req);
      const route = routeOf(path);
      const method = req.method ?? "GET";
      metrics.recordHttpRequest(route, method, res.statusCode, seconds);
      const level = res.statusCode >= 500 ? "warn" : QUIET_ROUTES.has(route) && res.statusCode < 400 ? "debug" : "info";
      // The line is built only when it will be written: under load that is an object per request saved.
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        requestId: state.requestId,
        traceId: state.traceId ?? undefined,
        method,
        path: path.length > 200 ? `${path.slice(0, 200)}…` : path,
        status: res.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        actor: state.actor,
        operation: state.operation,
        operationType: state.operationType ?? undefined,
        errors: state.errors ?? undefined,
        aborted: res.writableFinished ? undefined : true,
      };
      logger[level](line, "request");
    });
    return runWithRequest(state, () => handler(req, res));
  };
}

/** A bounded name for the part of the server a path belongs to (a metrics label and a span attribute). */
export function routeOf(path: string): string {
  if (path === "/graphql") return "graphql";
  if (path.startsWith("/git/")) return "git";
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") return path.slice(1);
  if (path === "/explorer" || path.startsWith("/explorer/")) return "explorer";
  return "other";
}
