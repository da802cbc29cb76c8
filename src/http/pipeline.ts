import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";
import { withCompression } from "./compression.js";
import { withCors } from "./cors.js";
import type { Handler } from "./handler.js";
import { withRequestLog } from "./request-log.js";
import { withServerSpan } from "./server-span.js";

/**
 * What every route gets, outermost first: a request id and its log line, the trace span, CORS,
 * then compression of whatever the route writes. Routes only answer their own requests.
 */
export function httpPipeline(options: { logger: Logger; metrics: Metrics; corsOrigins: readonly string[] }, route: Handler): Handler {
  return withRequestLog(options.logger, options.metrics, withServerSpan(withCors(options.corsOrigins, withCompression(route))));
}
