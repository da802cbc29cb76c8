/**
 * The web apps' file server: content types, caching (hashed assets for a year, entry pages
 * revalidated), the console's client-side routes falling back to index.html, and no way out of
 * the web root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StaticFiles } from "../../src/http/static-files.js";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function serve(root: string): Promise<{ port: number; close(): void }> {
  const files = new StaticFiles(root);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    files.handle(req, res, url).then(
      (handled) => {
        if (handled) return;
        res.statusCode = 404;
        res.end("not ours");
      },
      (err: unknown) => res.destroy(err as Error),
    );
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() })));
}

/** A raw request: the path goes out exactly as written (no client-side normalisation of "..") */
function get(port: number, rawPath: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, method: options.method ?? "GET", headers: options.headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("static files of the web apps", () => {
  let dir: string;
  let root: string;
  let server: { port: number; close(): void };
  const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "rbs-static-"));
    root = path.join(dir, "web");
    mkdirSync(path.join(root, "assets"), { recursive: true });
    mkdirSync(path.join(root, "explorer"));
    writeFileSync(path.join(root, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(path.join(root, "explorer", "index.html"), "<!doctype html><title>explorer</title>");
    writeFileSync(path.join(root, "assets", "console-AbC123.js"), "console.log('hi')");
    writeFileSync(path.join(root, "assets", "console-AbC123.css"), "body{}");
    writeFileSync(path.join(root, "favicon.svg"), "<svg/>");
    writeFileSync(path.join(dir, "secret.txt"), "TOP SECRET");
    server = await serve(root);
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the console's entry page revalidated, with a same-origin content security policy", async () => {
    const res = await get(server.port, "/", { headers: html });
    expect(res.status).toBe(200);
    expect(res.body).toContain("<title>console</title>");
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves hashed assets with their content type, cached for a year", async () => {
    const js = await get(server.port, "/assets/console-AbC123.js");
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.headers["content-length"]).toBe(String("console.log('hi')".length));
    const css = await get(server.port, "/assets/console-AbC123.css");
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    const svg = await get(server.port, "/favicon.svg");
    expect(svg.headers["content-type"]).toBe("image/svg+xml");
    expect(svg.headers["cache-control"]).toBe("no-cache");
  });

  it("answers the console's routes with index.html when a browser asks for a page", async () => {
    for (const route of ["/projects/demo", "/projects/demo/history/acme/staging", "/requests/rbk-abc123"]) {
      const res = await get(server.port, route, { headers: html });
      expect(res.status, route).toBe(200);
      expect(res.body).toContain("<title>console</title>");
    }
    // Not a browser page load: not ours (the server answers 404).
    expect((await get(server.port, "/projects/demo", { headers: { accept: "application/json" } })).status).toBe(404);
    // A missing file is a 404, never the console.
    expect((await get(server.port, "/assets/missing-123.js", { headers: html })).status).toBe(404);
    expect((await get(server.port, "/robots.txt", { headers: html })).status).toBe(404);
  });

  it("serves the explorer at /explorer/ and redirects /explorer there", async () => {
    const redirect = await get(server.port, "/explorer?x=1", { headers: html });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe("/explorer/?x=1");
    const page = await get(server.port, "/explorer/", { headers: html });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>explorer</title>");
  });

  it("never serves a file outside its root, however the path is spelled", async () => {
    const attempts = [
      "/../secret.txt",
      "/assets/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/..%2fsecret.txt",
      "/assets/..%5c..%5csecret.txt",
      "/assets/%2e%2e%5csecret.txt",
      "/secret.txt%00.js",
      "/%E0%A4%A",
      "/assets//..//../secret.txt",
    ];
    for (const attempt of attempts) {
      const res = await get(server.port, attempt, { headers: html });
      expect(res.body, attempt).not.toContain("TOP SECRET");
      expect([404, 400], attempt).toContain(res.status);
    }
  });

  it("answers HEAD without a body, conditional requests with 304, other methods with 405", async () => {
    const head = await get(server.port, "/assets/console-AbC123.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(String("console.log('hi')".length));
    const etag = head.headers.etag!;
    expect(etag).toMatch(/^W\/"/);
    const again = await get(server.port, "/assets/console-AbC123.js", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
    const post = await get(server.port, "/", { method: "POST", headers: html });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("says how to build the apps when they are not built", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "rbs-static-empty-"));
    const bare = await serve(empty);
    try {
      const res = await get(bare.port, "/", { headers: html });
      expect(res.status).toBe(503);
      expect(res.body).toContain("npm run build:web");
    } finally {
      bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("sends a browser that opens the API URL itself to the explorer", () => {
    const req = (method: string, accept: string) => ({ method, headers: { accept } }) as IncomingMessage;
    const url = (q = "") => new URL(`http://h/graphql${q}`);
    expect(StaticFiles.wantsExplorer(req("GET", "text/html,application/xhtml+xml"), url())).toBe(true);
    expect(StaticFiles.wantsExplorer(req("GET", "application/json"), url())).toBe(false);
    expect(StaticFiles.wantsExplorer(req("GET", "text/html"), url("?query=%7B__typename%7D"))).toBe(false);
    expect(StaticFiles.wantsExplorer(req("POST", "text/html"), url())).toBe(false);
  });
});
