import { createHash, timingSafeEqual } from "node:crypto";
import type { Metrics } from "../observability/metrics.js";
import { AuthService } from "../services/auth.js";
import type { Handler } from "./handler.js";

/**
 * GET /metrics in Prometheus' text format. With METRICS_TOKEN set, the scraper must send it as
 * `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials: … }`); without
 * it the endpoint is open, as Prometheus endpoints usually are behind a network boundary.
 */
export function metricsEndpoint(metrics: Metrics, token: string | null): Handler {
  const expected = token ? digest(token) : null;
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.statusCode = 405;
      res.setHeader("allow", "GET, HEAD");
      res.end();
      return;
    }
    if (expected) {
      const given = AuthService.parseAuthorization(req.headers.authorization);
      if (!given || !timingSafeEqual(digest(given), expected)) {
        res.statusCode = 401;
        res.setHeader("www-authenticate", 'Bearer realm="metrics"');
        res.setHeader("content-type", "text/plain; charset=utf-8");
        res.end("metrics require Authorization: Bearer <METRICS_TOKEN>\n");
        return;
      }
    }
    const { contentType, body } = await metrics.render();
    res.statusCode = 200;
    res.setHeader("content-type", contentType);
    res.setHeader("cache-control", "no-store");
    res.end(req.method === "HEAD" ? undefined : body);
  };
}

/** Equal-length digests, so the comparison takes the same time whatever was sent. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
