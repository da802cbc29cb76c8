/**
 * Responses of 1 KB or more are compressed with gzip or brotli, as the client's Accept-Encoding
 * asks, on every route; small responses and Git packs (already compressed) are sent as they are.
 * Checked with raw node:http requests, which (unlike fetch) show the bytes on the wire.
 */
import http from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../helpers/server.js";

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const PAGE = JSON.stringify({
  query: `{ deploymentHistory(project:"demo", tenant:"acme", environment:"production", first:20) { totalCount nodes { revision shortRevision deployedAt author { email name } source status summary } } }`,
});

describe("response compression", () => {
  let t: TestServer;
  let jane: string;
  const graphql = (encoding: string | null, body = PAGE) =>
    raw(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${jane}`, ...(encoding ? { "accept-encoding": encoding } : {}) },
      body,
    });

  beforeAll(async () => {
    t = await startTestServer();
    jane = t.tokens["jane@example.com"]!;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("gzips a history page for a client that accepts gzip, to a fraction of its size", async () => {
    const plain = await graphql(null);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(4000);
    const gzipped = await graphql("gzip");
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gzipped.headers.vary).toMatch(/Accept-Encoding/);
    expect(gzipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(JSON.parse(gunzipSync(gzipped.body).toString("utf8"))).toEqual(JSON.parse(plain.body.toString("utf8")));
  });

  it("sends brotli when the client prefers it (as browsers do)", async () => {
    const plain = await graphql(null);
    const br = await graphql("gzip, deflate, br");
    expect(br.headers["content-encoding"]).toBe("br");
    expect(JSON.parse(brotliDecompressSync(br.body).toString("utf8"))).toEqual(JSON.parse(plain.body.toString("utf8")));
  });

  it("leaves a response under 1 KB alone", async () => {
    const small = await graphql("gzip, br", JSON.stringify({ query: "{ me { email } }" }));
    expect(small.status).toBe(200);
    expect(small.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(small.body.toString("utf8"))).toEqual({ data: { me: { email: "jane@example.com" } } });
  });

  it("compresses other routes too: /metrics", async () => {
    const metrics = await raw(`${t.url}/metrics`, { headers: { "accept-encoding": "gzip" } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(metrics.body).toString("utf8")).toContain("process_cpu_seconds_total");
  });

  it("does not compress Git's ref advertisement (git negotiates its own encoding)", async () => {
    const refs = await raw(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Bearer ${jane}`, "accept-encoding": "gzip" } });
    expect(refs.status).toBe(200);
    expect(refs.headers["content-type"]).toBe("application/x-git-upload-pack-advertisement");
    expect(refs.headers["content-encoding"]).toBeUndefined();
  });
});
