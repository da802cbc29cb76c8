import type { IncomingMessage } from "node:http";
import { getOperationAST, getVariableValues, GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from "graphql";
import type { Context } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import type { WebSocketServer } from "ws";
import type { RequestContext } from "../../resolvers/context.js";
import type { App } from "../app.js";
import { formatError } from "../errors.js";
import type { Metrics } from "../observability/metrics.js";
import { actorLabel, newRequestState } from "../observability/request-context.js";
import { sharedSubscribe } from "../schema/shared-subscriptions.js";
import { callerContext } from "./caller.js";
import { costError, limitRules, parseOptions } from "./query-limits.js";

type ConnectionExtra = {
  actorContext?: RequestContext;
  /** The upgrade request's X-Request-Id (or a new one): every operation line of the connection carries it. */
  requestId?: string;
  operations?: Map<string, { started: bigint; operation: string | null; type: string; counted: boolean; errors?: Set<string> }>;
};
type WsContext = Context<Record<string, unknown>, Extra & ConnectionExtra>;

/**
 * graphql-ws on the HTTP server's /graphql path. Connections authenticate once, with
 * connectionParams.authorization = "Bearer <token>". Each operation is parsed, validated and its
 * variables coerced here, so a syntax error, an unknown field or a missing variable comes back
 * as a coded GraphQL error on that operation alone (GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT): the socket and its other subscriptions stay open.
 * Every operation is logged when it ends, every refused connection when it is refused.
 */
export function serveGraphqlWs(app: App, schema: GraphQLSchema, wsServer: WebSocketServer, metrics: Metrics): { dispose(): Promise<void> | void } {
  const { logger } = app;
  const log = (err: unknown) => logger.error({ err }, "unexpected error in a resolver");
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e, log));
  // The same rules as over HTTP: without introspection, __schema and __type are refused here too.
  const limits = app.config.queryLimits;
  const rules = [...specifiedRules, ...(app.config.introspection ? [] : [NoSchemaIntrospectionCustomRule]), ...limitRules(limits)];

  const finish = (ctx: WsContext, id: string, outcome: { errors?: string[] }) => {
    const op = ctx.extra.operations?.get(id);
    if (!op) return;
    ctx.extra.operations!.delete(id);
    if (op.counted) metrics.subscriptionEnded();
    const errors = new Set([...(op.errors ?? []), ...(outcome.errors ?? [])]);
    const seconds = Number(process.hrtime.bigint() - op.started) / 1e9;
    metrics.recordOperation(op.operation, op.type, [...errors][0] ?? "ok", op.type === "subscription" ? null : seconds);
    logger.info(
      {
        requestId: ctx.extra.requestId,
        transport: "websocket",
        operationId: id,
        actor: actorLabel(ctx.extra.actorContext?.actor),
        operation: op.operation,
        operationType: op.type,
        ms: Math.round(seconds * 10_000) / 10,
        errors: errors.size > 0 ? [...errors] : undefined,
      },
      "websocket operation",
    );
  };

  // The upgrade's response carries the connection's request id, as every HTTP response does.
  const requestIds = new WeakMap<IncomingMessage, string>();
  wsServer.on("headers", (headers, request) => {
    const id = newRequestState(request.headers).requestId;
    requestIds.set(request, id);
    headers.push(`X-Request-Id: ${id}`);
  });

  return useServer<Record<string, unknown>, ConnectionExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        ctx.extra.requestId = requestIds.get(ctx.extra.request) ?? newRequestState(ctx.extra.request.headers).requestId;
        ctx.extra.operations = new Map();
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const context = await callerContext(app, typeof header === "string" ? header : undefined);
        if (!context.actor) {
          logger.info({ requestId: ctx.extra.requestId, transport: "websocket", status: 4401, reason: context.authError ?? "no credentials" }, "websocket connection refused");
          ctx.extra.socket.close(4401, 'Unauthorized: send connectionParams.authorization = "Bearer <token>"');
          return false;
        }
        ctx.extra.actorContext = context;
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const started = process.hrtime.bigint();
        const refuse = (errors: GraphQLError[], operation: string | null = payload.operationName ?? null) => {
          ctx.extra.operations?.set(id, { started, operation, type: "unknown", counted: false });
          finish(ctx, id, { errors: errors.map((e) => String(e.extensions.code)) });
          return errors;
        };
        let document: DocumentNode;
        try {
          document = parse(payload.query, parseOptions(limits));
        } catch (err) {
          return refuse([coded(err, "GRAPHQL_PARSE_FAILED")]);
        }
        const invalid = validate(schema, document, rules);
        if (invalid.length > 0) return refuse(invalid.map((e) => coded(e, "GRAPHQL_VALIDATION_FAILED")));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return refuse([
            coded(
              new GraphQLError(
                payload.operationName ? `Unknown operation named "${payload.operationName}".` : "Must provide operation name if query contains multiple operations.",
              ),
              "OPERATION_RESOLUTION_FAILURE",
            ),
          ]);
        }
        const variables = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {}, { maxErrors: 20 });
        if (variables.errors)
          return refuse(
            variables.errors.map((e) => coded(e, "BAD_USER_INPUT")),
            operation.name?.value ?? null,
          );
        const tooCostly = costError(schema, document, payload.variables ?? undefined, payload.operationName, limits);
        if (tooCostly) return refuse([tooCostly], operation.name?.value ?? null);
        ctx.extra.operations?.set(id, { started, operation: operation.name?.value ?? null, type: operation.operation, counted: false });
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: ctx.extra.actorContext };
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        const op = ctx.extra.operations?.get(id);
        if (op && op.type === "subscription" && isAsyncIterable(result)) {
          op.counted = true;
          metrics.subscriptionStarted();
        }
      },
      // Subscribers of one caller with the same operation share each event's execution.
      subscribe: sharedSubscribe((context) => callerKey((context as RequestContext).actor)),
      onNext: (ctx, id, _payload, _args, result) => {
        if (!("errors" in result) || !result.errors) return result;
        const errors = format(result.errors);
        const op = ctx.extra.operations?.get(id);
        if (op) for (const e of errors) (op.errors ??= new Set()).add(String(e.extensions?.code));
        return { ...result, errors };
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = format(errors);
        finish(ctx, id, { errors: formatted.map((e) => String(e.extensions?.code)) });
        return formatted;
      },
      onComplete: (ctx, id) => finish(ctx, id, {}),
    },
    wsServer,
    app.config.keepAliveSeconds * 1000,
  );
}

/** A graphql-js error with the code (and status) Apollo Server gives the same error over HTTP. */
function coded(err: unknown, code: string): GraphQLError {
  const e = err instanceof GraphQLError ? err : new GraphQLError(String((err as Error)?.message ?? err));
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, extensions: { ...e.extensions, code, status: 400 } });
}

/** Who a subscription's results may depend on: resolvers see the user (or agent) behind a token. */
function callerKey(actor: RequestContext["actor"]): string {
  if (!actor) return "anonymous";
  if (actor.kind === "agent") return `agent:${actor.tokenId}`;
  return `${actor.kind}:${actor.user?.id ?? ""}`;
}

function isAsyncIterable(value: unknown): boolean {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}
