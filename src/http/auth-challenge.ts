import type { IncomingMessage, ServerResponse } from "node:http";
import { graphqlErrorBody } from "./handler.js";

export const API_REALM = "rollback-server";

/**
 * The RFC 6750 challenge of a 401: bare for a request that sent no credentials, with
 * `error="invalid_token"` (unknown, expired, revoked) or `error="invalid_request"` (not a
 * bearer header) for one whose credentials were refused.
 */
export function bearerChallenge(error?: "invalid_token" | "invalid_request", description?: string): string {
  let challenge = `Bearer realm="${API_REALM}"`;
  if (error) challenge += `, error="${error}"`;
  if (description) challenge += `, error_description="${description.replace(/["\\]/g, "'")}"`;
  return challenge;
}

/**
 * Answers a GraphQL request whose credentials were refused, before anything runs: HTTP 401, the
 * challenge, and a GraphQL error body (code UNAUTHENTICATED) in the media type the client
 * accepts, so GraphQL clients show the reason as a GraphQL error.
 */
export function refuseCredentials(req: IncomingMessage, res: ServerResponse, message: string, malformed: boolean): void {
  const accept = req.headers.accept ?? "";
  res.statusCode = 401;
  res.setHeader("www-authenticate", bearerChallenge(malformed ? "invalid_request" : "invalid_token", message));
  res.setHeader("content-type", accept.includes("application/graphql-response+json") ? "application/graphql-response+json; charset=utf-8" : "application/json; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.end(JSON.stringify(graphqlErrorBody(401, "UNAUTHENTICATED", message)));
}
