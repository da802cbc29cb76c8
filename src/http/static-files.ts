import { createReadStream, existsSync, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

/** Where the built console and explorer are: dist/web/ of the package this file belongs to. */
export function defaultWebRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, "dist", "web");
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".ttf": "font/ttf",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite writes content-hashed names under assets/: they never change, so browsers may keep them for a year. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Entry pages and unhashed files: revalidate every time, so a new build is picked up at once. */
const REVALIDATE = "no-cache";

/**
 * Everything a browser may load is served from here (no CDN): the same-origin policy below keeps
 * it that way at run time. Monaco (the explorer's editor) needs inline styles and blob workers.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

export const EXPLORER_PATH = "/explorer/";

/**
 * The built web apps: the console at / (its client-side routes fall back to index.html) and the
 * GraphQL explorer at /explorer/. Hashed assets are cached for good, entry pages revalidated.
 */
export class StaticFiles {
  constructor(private readonly root: string = defaultWebRoot()) {}

  /** A browser opening the API URL itself is sent to the explorer (GET, asks for HTML, no operation). */
  static wantsExplorer(req: IncomingMessage, url: URL): boolean {
    if (req.method !== "GET" || url.searchParams.has("query")) return false;
    return (req.headers.accept ?? "").split(",").some((part) => part.trim().startsWith("text/html"));
  }

  /** Serves the request when it is for the web apps; false when it is not theirs (the caller answers 404). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return false;
    }
    // Normalised first, so "/assets/../../x" and "\\" tricks never reach the file system.
    if (pathname.includes("\0") || pathname.includes("\\") || pathname.split("/").includes("..")) return false;
    if (pathname === "/explorer") return redirect(res, EXPLORER_PATH + url.search);

    const isAsset = pathname.startsWith("/assets/");
    const hasExtension = path.posix.extname(pathname) !== "";
    let file: string;
    if (pathname === "/" || pathname === "/index.html") file = "index.html";
    else if (pathname === EXPLORER_PATH || pathname === `${EXPLORER_PATH}index.html`) file = "explorer/index.html";
    else if (isAsset || hasExtension) file = pathname.slice(1);
    else if (acceptsHtml(req))
      file = "index.html"; // a console route such as /projects/demo: the app routes it
    else return false;

    if (req.method !== "GET" && req.method !== "HEAD") {
      res.statusCode = 405;
      res.setHeader("allow", "GET, HEAD");
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end("method not allowed\n");
      return true;
    }

    const absolute = path.resolve(this.root, file);
    if (!absolute.startsWith(this.root + path.sep)) return false;
    const info = await stat(absolute).catch(() => null);
    if (!info?.isFile()) {
      if (file === "index.html" || file === "explorer/index.html") return notBuilt(res);
      return false;
    }
    await this.send(req, res, absolute, info, isAsset ? IMMUTABLE : REVALIDATE);
    return true;
  }

  private async send(req: IncomingMessage, res: ServerResponse, file: string, info: Stats, cacheControl: string): Promise<void> {
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    res.setHeader("content-type", type);
    res.setHeader("cache-control", cacheControl);
    res.setHeader("etag", etag);
    res.setHeader("x-content-type-options", "nosniff");
    if (type.startsWith("text/html")) {
      res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
      res.setHeader("referrer-policy", "no-referrer");
    }
    if (req.headers["if-none-match"] === etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader("content-length", info.size);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    await pipeline(createReadStream(file), res);
  }
}

function acceptsHtml(req: IncomingMessage): boolean {
  return (req.method === "GET" || req.method === "HEAD") && /text\/html/.test(req.headers.accept ?? "");
}

function redirect(res: ServerResponse, location: string): true {
  res.statusCode = 302;
  res.setHeader("location", location);
  res.end();
  return true;
}

function notBuilt(res: ServerResponse): true {
  res.statusCode = 503;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("cache-control", REVALIDATE);
  res.end("The web console is not built: run `npm run build:web` (npm start and npm test do).\n");
  return true;
}
