import http from "node:http";
import type { GqlResult, TestServer } from "./server.js";

/** HTTP as raw clients send it: exact paths, any Authorization header, Git smart HTTP URLs. */

/** Raw POST to /graphql with any Authorization header. */
export async function rawGraphql(url: string, body: unknown, authorization?: string): Promise<{ status: number; json: GqlResult<unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as GqlResult<unknown> };
}

/** One raw HTTP request: the path goes out exactly as given (no client-side normalization of `..`). */
export function rawRequest(
  t: TestServer,
  rawPath: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: t.server.port, path: rawPath, method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export function basic(token: string, user = "x"): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;
}

/** http://127.0.0.1:<port>/git/<project>.git, with the token as password when given. */
export function repoUrl(t: TestServer, project: string, token?: string): string {
  const u = new URL(`${t.url}/git/${project}.git`);
  if (token) {
    u.username = "x";
    u.password = token;
  }
  return u.toString();
}
