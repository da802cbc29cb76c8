import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from "@opentelemetry/semantic-conventions";
import { currentRequest } from "../observability/request-context.js";
import { tracer, tracingEnabled } from "../observability/tracing.js";
import { pathOf, type Handler } from "./handler.js";
import { routeOf } from "./request-log.js";

/**
 * With tracing on, each request is a SERVER span that continues the caller's trace (W3C
 * traceparent and baggage); the GraphQL plugin renames it after the operation
 * (`query DeploymentHistoryPage`). Service, Git and database spans nest inside it. With tracing
 * off the handler is returned as it is.
 */
export function withServerSpan(handler: Handler): Handler {
  if (!tracingEnabled()) return handler;
  return (req, res) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const path = pathOf(req);
    const route = routeOf(path);
    const method = req.method ?? "GET";
    const span = tracer().startSpan(
      route === "other" ? method : `${method} /${route}`,
      { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path, [ATTR_HTTP_ROUTE]: route } },
      parent,
    );
    const state = currentRequest();
    if (state) state.traceId = span.spanContext().traceId;
    res.once("close", () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    return context.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}
