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

/** The body of a request refused before GraphQL ran, shaped like a GraphQL response so clients show it as an error. */
export function graphqlErrorBody(status: number, code: string, message: string): { errors: { message: string; extensions: { code: string; status: number } }[] } {
  return { errors: [{ message, extensions: { code, status } }] };
}

export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, graphqlErrorBody(status, code, message), headers);
}
