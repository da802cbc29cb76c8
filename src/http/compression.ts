import compression from "compression";
import type { Handler } from "./handler.js";

/**
 * gzip or brotli (whichever the client prefers, as Accept-Encoding says) for every response of
 * 1 KB or more whose type is compressible; Git packs, already compressed, are left alone. Every
 * route behind this wrapper gets it, whoever writes the route.
 */
export function withCompression(handler: Handler): Handler {
  const middleware = compression({ threshold: 1024 });
  return (req, res) =>
    new Promise<void>((resolve, reject) => {
      middleware(req as never, res as never, (err?: unknown) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err as unknown)));
        else handler(req, res).then(resolve, reject);
      });
    });
}
