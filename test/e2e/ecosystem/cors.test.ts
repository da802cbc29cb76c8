/**
 * A web app served from another origin calls the API from a real browser (headless Chromium,
 * every non-local request blocked): the origins in CORS_ORIGINS get their preflight answered and
 * can read the responses; any other origin gets no Access-Control-Allow-* header and its
 * browser refuses the call.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** What the page does: one call to the API with the bearer token, like a console's GraphQL client. */
type CallResult = { ok: true; status: number; body: unknown; requestId: string | null } | { ok: false; error: string };

describe("CORS: the API called from a page on another origin", () => {
  let t: TestServer;
  let jane: string;
  let pages: http.Server;
  let pagePort: number;
  let browser: Browser;

  beforeAll(async () => {
    // The page's own server, on another port: another origin than the API's.
    pages = http.createServer((_req, res) => {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end("<!doctype html><title>console</title><p>console</p>");
    });
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    pagePort = (pages.address() as AddressInfo).port;
    t = await startTestServer({ env: { CORS_ORIGINS: `http://127.0.0.1:${pagePort},https://console.example.com` } });
    jane = t.tokens["jane@example.com"]!;
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await new Promise((resolve) => pages?.close(resolve));
  });

  async function openPage(origin: string): Promise<Page> {
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const { hostname } = new URL(route.request().url());
      return hostname === "127.0.0.1" || hostname === "localhost" ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  function call(page: Page, method: "POST" | "GET", token: string): Promise<CallResult> {
    return page.evaluate(
      async ({ url, method, token }) => {
        try {
          const query = "query Me { me { email } }";
          const res =
            method === "POST"
              ? await fetch(url, {
                  method,
                  headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": "from-the-browser-1" },
                  body: JSON.stringify({ query }),
                })
              : await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${token}` } });
          return { ok: true as const, status: res.status, body: await res.json(), requestId: res.headers.get("x-request-id") };
        } catch (err) {
          return { ok: false as const, error: String(err) };
        }
      },
      { url: t.graphqlUrl, method, token },
    );
  }

  it("lets a listed origin call the API with a bearer token, over POST and GET, and read the request id", async () => {
    const page = await openPage(`http://127.0.0.1:${pagePort}`);
    const post = await call(page, "POST", jane);
    expect(post).toEqual({ ok: true, status: 200, body: { data: { me: { email: "jane@example.com" } } }, requestId: "from-the-browser-1" });
    const get = await call(page, "GET", jane);
    expect(get).toMatchObject({ ok: true, status: 200, body: { data: { me: { email: "jane@example.com" } } } });
    await page.context().close();
  });

  it("blocks an origin that is not listed (the same page served as localhost): the browser gets no allow header", async () => {
    const page = await openPage(`http://localhost:${pagePort}`);
    const result = await call(page, "POST", jane);
    expect(result.ok).toBe(false);
    expect((result as { error: string }).error).toContain("Failed to fetch");
    await page.context().close();
  });

  it("answers a listed origin's preflight 204 with the methods and headers, credentials off, Vary: Origin", async () => {
    const res = await fetch(t.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "https://console.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://console.example.com");
    expect(res.headers.get("access-control-allow-methods")?.split(",")).toEqual(expect.arrayContaining(["GET", "POST", "OPTIONS"]));
    const allowed = res.headers
      .get("access-control-allow-headers")!
      .split(",")
      .map((h) => h.trim());
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "apollo-require-preflight", "x-request-id", "traceparent"]));
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/\bOrigin\b/);
    // Before, this preflight got 400 with the CSRF error.
    expect(await res.text()).toBe("");
  });

  it("gives an origin that is not listed no Access-Control-Allow-* header, on the preflight and on the call", async () => {
    const preflight = await fetch(t.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect([...preflight.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    expect(preflight.headers.get("vary")).toMatch(/\bOrigin\b/);

    const call = await fetch(t.graphqlUrl, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json", authorization: `Bearer ${jane}` },
      body: JSON.stringify({ query: "{ me { email } }" }),
    });
    expect([...call.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    expect(call.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it("is same-origin only when CORS_ORIGINS is unset", async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(plain.graphqlUrl, { method: "OPTIONS", headers: { origin: `http://127.0.0.1:${pagePort}`, "access-control-request-method": "POST" } });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await plain.stop();
    }
  });
});
