import type { ApolloServerPlugin } from "@apollo/server";
import { trace } from "@opentelemetry/api";
import { getOperationAST } from "graphql";
import type { RequestContext } from "../../resolvers/context.js";
import { bearerChallenge } from "../http/auth-challenge.js";
import type { Metrics } from "./metrics.js";
import { currentRequest } from "./request-context.js";

/**
 * What the server observes of each GraphQL operation over HTTP: its name, type and error codes
 * for the request's log line, its count and latency for the metrics, its name on the trace span.
 *
 * It also sets the HTTP status of a request that failed authentication as a whole: sent without
 * credentials, every error UNAUTHENTICATED and no data, the response is 401 with a Bearer
 * challenge. (Refused credentials never get this far: they are answered 401 before anything
 * runs.) Any other outcome keeps 200, with each error's code and status in its extensions, as
 * the GraphQL-over-HTTP specification expects for partial results.
 */
export function observabilityPlugin(metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      const state = currentRequest();
      if (state && request.operationName) state.operation = request.operationName.slice(0, 100);
      return {
        async didResolveOperation({ operationName, operation }) {
          const type = operation?.operation ?? "unknown";
          if (state) {
            state.operation = operationName ?? null;
            state.operationType = type;
          }
          const span = trace.getActiveSpan();
          if (span) {
            span.updateName(operationName ? `${type} ${operationName}` : type);
            span.setAttribute("graphql.operation.type", type);
            if (operationName) span.setAttribute("graphql.operation.name", operationName);
          }
        },
        async willSendResponse({ response, contextValue, operationName, operation, document }) {
          const result = response.body.kind === "single" ? response.body.singleResult : null;
          const codes = (result?.errors ?? []).map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "INTERNAL_SERVER_ERROR"));
          // An operation that failed validation was never resolved: name it from the parsed document.
          const named = operation ?? (document ? getOperationAST(document, request.operationName) : null);
          const name = operationName ?? named?.name?.value ?? request.operationName ?? null;
          if (state) {
            state.operation = name;
            state.operationType = named?.operation ?? null;
            if (codes.length > 0) state.errors = [...new Set(codes)];
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.recordOperation(name, named?.operation, codes[0] ?? "ok", seconds);

          const noData = !result?.data || Object.values(result.data).every((v) => v === null);
          if (!contextValue?.actor && codes.length > 0 && codes.every((c) => c === "UNAUTHENTICATED") && noData) {
            response.http.status = 401;
            response.http.headers.set("www-authenticate", bearerChallenge());
          }
        },
      };
    },
  };
}
