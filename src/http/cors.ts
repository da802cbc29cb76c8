import cors from "cors";
import type { Handler } from "./handler.js";

/** Request headers a browser app may send: the bearer token, JSON bodies, Apollo's CSRF headers, request ids and trace context. */
export const CORS_ALLOWED_HEADERS = ["authorization", "content-type", "apollo-require-preflight", "x-apollo-operation-name", "x-request-id", "traceparent", "tracestate"];
const METHODS = ["GET", "POST", "OPTIONS"];

/**
 * Cross-origin access for the pages of the listed origins (CORS_ORIGINS: exact matches; none
 * listed means same-origin only). A listed origin's preflight is answered 204 with the allowed
 * methods and headers; credentials (cookies) are never allowed, since the API authenticates with
 * bearer tokens only. Any other origin gets no Access-Control-Allow-* header at all, so its
 * browser refuses the call. Every response varies on Origin, so no cache mixes the two.
 */
export function withCors(origins: readonly string[], handler: Handler): Handler {
  const allowed = new Set(origins);
  const middleware = cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: ["x-request-id"],
    credentials: false,
    maxAge: 600,
    optionsSuccessStatus: 204,
  });
  return (req, res) => {
    res.setHeader("vary", "Origin");
    return new Promise<void>((resolve, reject) => {
      let passedOn = false;
      middleware(req, res, (err?: unknown) => {
        passedOn = true;
        if (err) return reject(err instanceof Error ? err : new Error(String(err as unknown)));
        // Not answered by cors: an OPTIONS here is a preflight from an origin not listed, or a plain OPTIONS.
        if (req.method === "OPTIONS") {
          res.statusCode = 204;
          res.setHeader("allow", METHODS.join(", "));
          res.setHeader("content-length", "0");
          res.end();
          return resolve();
        }
        handler(req, res).then(resolve, reject);
      });
      // A listed origin's preflight: cors answered it itself (synchronously: the origin check is).
      if (!passedOn && res.writableEnded) resolve();
    });
  };
}
