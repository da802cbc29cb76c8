import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import type { GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { RequestContext } from "../resolvers/context.js";
import type { App } from "./app.js";
import { formatError } from "./errors.js";
import { GitHttpBackend } from "./http/git-http.js";
import { buildAppSchema } from "./schema/build-schema.js";
import { sharedSubscribe } from "./schema/shared-subscriptions.js";
import { AuthService } from "./services/auth.js";
import { Maintenance } from "./maintenance.js";

export interface RunningServer {
  url: string;
  port: number;
  schema: GraphQLSchema;
  /** Stops accepting, finishes in-flight requests, closes subscriptions, then closes the app. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Apollo Server on /graphql, graphql-ws on the same path and port, health probes and the Git endpoint. */
export async function startServer(app: App): Promise<RunningServer> {
  const { config, logger } = app;
  const schema = await buildAppSchema(app);
  const httpServer = http.createServer();
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const log = (err: unknown) => logger.error({ err }, "unexpected error in a resolver");

  const wsCleanup = useServer<Record<string, unknown>, { actorContext?: RequestContext }>(
    {
      schema,
      // Authenticated once, at connection time: connectionParams.authorization = "Bearer <token>".
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const context = await contextFor(app, typeof header === "string" ? header : undefined);
        if (!context.actor) {
          ctx.extra.socket.close(4401, "Unauthorized: send connectionParams.authorization = \"Bearer <token>\"");
          return false;
        }
        ctx.extra.actorContext = context;
        return true;
      },
      context: (ctx) => ctx.extra.actorContext!,
      // Subscribers of one caller with the same operation share each event's execution.
      subscribe: sharedSubscribe((context) => callerKey((context as RequestContext).actor)),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!("errors" in result) || !result.errors) return result;
        return { ...result, errors: result.errors.map((e) => formatError(e.toJSON?.() ?? e, e, log)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON?.() ?? e, e, log)),
    },
    wsServer,
    config.keepAliveSeconds * 1000,
  );

  const apollo = new ApolloServer<RequestContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, original) => formatError(formatted, original, log),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownGraceSeconds * 1000 }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      requestLogger(logger),
    ],
  });
  await apollo.start();

  const git = new GitHttpBackend({ git: app.git, auth: app.auth, access: app.access, catalog: app.catalog, logger, maxProcesses: config.gitHttpMaxProcesses });
  httpServer.on("request", (req, res) => {
    route(app, apollo, git, req, res).catch((err) => {
      logger.error({ err }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal server error" });
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const maintenance = new Maintenance(app);
  await maintenance.start();
  logger.info({ url: `${url}/graphql`, dataDir: config.dataDir, database: app.db.dialect }, "rollback server listening");

  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    schema,
    stop() {
      stopping ??= (async () => {
        maintenance.stop();
        await apollo.stop(); // drains HTTP (in-flight requests finish) and closes subscriptions
        await app.close();
      })();
      return stopping;
    },
  };
}

async function contextFor(app: App, authorization: string | undefined): Promise<RequestContext> {
  const token = AuthService.parseAuthorization(authorization);
  if (authorization && !token) return { actor: null, authError: "malformed Authorization header: use \"Bearer <token>\"", services: app };
  if (!token) return { actor: null, authError: null, services: app };
  const actor = await app.auth.authenticate(token);
  return { actor, authError: actor ? null : "invalid, expired or revoked token", services: app };
}

async function route(app: App, apollo: ApolloServer<RequestContext>, git: GitHttpBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
  if (url.pathname === "/readyz") return readiness(app, res);
  if (url.pathname.startsWith("/git/")) return git.handle(req, res, url);
  if (url.pathname !== "/graphql") return sendJson(res, 404, { error: "not found: the API is at /graphql" });

  let body: unknown = undefined;
  if (req.method === "POST") {
    const raw = await readBody(req);
    if (raw === null) return sendJson(res, 413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return sendJson(res, 400, { errors: [{ message: "request body is not valid JSON", extensions: { code: "BAD_USER_INPUT", status: 400 } }] });
      }
    }
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body },
    context: () => contextFor(app, req.headers.authorization),
  });
  for (const [key, value] of result.headers) res.setHeader(key, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === "complete") {
    res.end(result.body.string);
  } else {
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

async function readiness(app: App, res: ServerResponse): Promise<void> {
  const checks: Record<string, string> = {};
  let ok = true;
  const check = async (name: string, probe: () => Promise<unknown>) => {
    try {
      await probe();
      checks[name] = "ok";
    } catch (err) {
      ok = false;
      checks[name] = (err as Error).message.split("\n")[0]!;
    }
  };
  await check("database", () => app.db.ping());
  await check("git", () => app.git.ping());
  for (const extra of app.readinessChecks ?? []) await check(extra.name, extra.probe);
  sendJson(res, ok ? 200 : 503, { status: ok ? "ready" : "not ready", checks });
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

/** One structured log line per GraphQL operation. */
function requestLogger(logger: Logger): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart({ request }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ errors, operationName }) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const codes = (errors ?? []).map((e) => (e.extensions?.code as string | undefined) ?? "INTERNAL_SERVER_ERROR");
          logger.info({ operation: operationName ?? request.operationName ?? null, ms: Math.round(ms * 10) / 10, errors: codes.length ? codes : undefined }, "graphql");
        },
      };
    },
  };
}

/** Who a subscription's results may depend on: resolvers see the user (or agent) behind a token. */
function callerKey(actor: RequestContext["actor"]): string {
  if (!actor) return "anonymous";
  if (actor.kind === "agent") return `agent:${actor.tokenId}`;
  return `${actor.kind}:${actor.user?.id ?? ""}`;
}
