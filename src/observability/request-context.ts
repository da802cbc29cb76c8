import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { Actor } from "../services/actor.js";

/**
 * What the server learns about one request while handling it: who asked and for which
 * operation. The HTTP layer creates it, authentication and the GraphQL plugin fill it in, and the
 * access log and metrics read it once the response is sent. Every log line written while the
 * request is handled carries its `requestId` (see the logger's mixin).
 */
export interface RequestState {
  readonly requestId: string;
  /** Trace id of the request's W3C traceparent (or of the server span when tracing is on). */
  traceId: string | null;
  /** `user:<id>` or `agent:<token id>`; never the token. */
  actor: string | null;
  operation: string | null;
  operationType: string | null;
  /** Error codes of the GraphQL response, when it had errors. */
  errors: string[] | null;
}

const storage = new AsyncLocalStorage<RequestState>();

export function currentRequest(): RequestState | undefined {
  return storage.getStore();
}

export function runWithRequest<T>(state: RequestState, fn: () => T): T {
  return storage.run(state, fn);
}

/** A caller's X-Request-Id is kept when it is a plain token a log search can use; anything else is replaced. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function newRequestState(headers: Record<string, string | string[] | undefined>): RequestState {
  const given = first(headers["x-request-id"])?.trim();
  const traceparent = TRACEPARENT.exec(first(headers.traceparent)?.trim().toLowerCase() ?? "");
  const traceId = traceparent && !/^0+$/.test(traceparent[1]!) ? traceparent[1]! : null;
  return {
    requestId: given && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID(),
    traceId,
    actor: null,
    operation: null,
    operationType: null,
    errors: null,
  };
}

/** How logs name a caller. */
export function actorLabel(actor: Actor | null | undefined): string | null {
  if (!actor) return null;
  if (actor.kind === "agent") return `agent:${actor.tokenId}`;
  if (actor.kind === "user") return `user:${actor.user.id}`;
  return "system";
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
