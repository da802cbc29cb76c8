import type { IncomingMessage, ServerResponse } from "node:http";

/** One HTTP request's handling; the wrappers in this folder each add one concern around one. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The path of a request, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(JSON.stringify(body));
}
