import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import type { GraphQLSchema } from "graphql";
import { WebSocketServer } from "ws";
import type { RequestContext } from "../resolvers/context.js";
import type { App } from "./app.js";
import { formatError } from "./errors.js";
import { refuseCredentials } from "./http/auth-challenge.js";
import { GitHttpBackend } from "./http/git-http.js";
import { callerContext } from "./http/caller.js";
import { serveGraphqlWs } from "./http/graphql-ws.js";
import { sendGraphQLError, sendJson } from "./http/handler.js";
import { metricsEndpoint } from "./http/metrics-endpoint.js";
import { httpPipeline } from "./http/pipeline.js";
import { costLimitPlugin, limitRules, parseOptions } from "./http/query-limits.js";
import { observabilityPlugin } from "./observability/graphql-plugin.js";
import { traceServices } from "./observability/instrument.js";
import { Metrics } from "./observability/metrics.js";
import { actorLabel, currentRequest } from "./observability/request-context.js";
import { EXPLORER_PATH, StaticFiles } from "./http/static-files.js";
import { buildAppSchema } from "./schema/build-schema.js";
import { CompiledExecution } from "./schema/compiled-execution.js";
import { AuthService } from "./services/auth.js";
import { Maintenance } from "./maintenance.js";
import { Readiness } from "./http/readiness.js";
import { Admission, NOT_ADMITTED } from "./http/admission.js";

export interface RunningServer {
  url: string;
  port: number;
  schema: GraphQLSchema;
  /** Stops accepting, finishes in-flight requests, closes subscriptions, then closes the app. */
  stop(): Promise<void>;
}

/** Apollo Server on /graphql, graphql-ws on the same path and port, health probes and the Git endpoint. */
export async function startServer(app: App): Promise<RunningServer> {
  const { config, logger } = app;
  const schema = await buildAppSchema(traceServices(app));
  const httpServer = http.createServer();
  // A larger message closes its socket with 1009 (Message Too Big), as ws does by default.
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxBodyBytes });
  const log = (err: unknown) => logger.error({ err }, "unexpected error in a resolver");
  const git = new GitHttpBackend({
    git: app.git,
    auth: app.auth,
    access: app.access,
    catalog: app.catalog,
    logger,
    maxProcesses: config.gitHttpMaxProcesses,
    limits: config.gitHttp,
  });
  const admission = new Admission(config.graphqlMaxConcurrent, config.graphqlQueueWaitSeconds * 1000);
  const metrics = new Metrics({
    db: app.db,
    gitHttpSlots: () => git.slotUsage(),
    graphqlSlots: () => admission.usage(),
    websocketConnections: () => wsServer.clients.size,
  });
  const wsCleanup = serveGraphqlWs(app, schema, wsServer, metrics);

  const apollo = new ApolloServer<RequestContext>({
    gateway: new CompiledExecution(schema, { compileAfter: config.graphqlCompileAfter }).gateway(),
    includeStacktraceInErrorResponses: false,
    // A request carrying a bearer token cannot be a simple cross-site request (browsers preflight
    // it), so it needs no CSRF header: urql's and graphql-request's GET queries pass. Cookie-less
    // simple requests without one of these headers are still refused.
    csrfPrevention: { requestHeaders: ["authorization", "apollo-require-preflight", "x-apollo-operation-name"] },
    introspection: config.introspection,
    parseOptions: parseOptions(config.queryLimits),
    validationRules: limitRules(config.queryLimits),
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
      costLimitPlugin(config.queryLimits),
      observabilityPlugin(metrics),
      // Apollo's landing page loads Sandbox from a CDN; browsers go to the bundled explorer instead.
      ApolloServerPluginLandingPageDisabled(),
      // The schema has no cache hints, so Apollo's cache-control plugin only ever answered no-store,
      // at the price of a hook around every resolved field; the header stays, the hook goes.
      ApolloServerPluginCacheControlDisabled(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ response }) {
              if (!response.http.headers.has("cache-control")) response.http.headers.set("cache-control", "no-store");
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  // The probes of /readyz run in the background; the route answers with their newest result.
  const readiness = new Readiness(() => [{ name: "database", probe: () => app.db.ping() }, { name: "git", probe: () => app.git.ping() }, ...(app.readinessChecks ?? [])]);
  const web = new StaticFiles();
  const serveMetrics = metricsEndpoint(metrics, config.metricsToken);
  const handle = httpPipeline({ logger, metrics, corsOrigins: config.corsOrigins }, (req, res) =>
    route(app, apollo, { git, metrics: serveMetrics, web, readiness, admission }, req, res),
  );
  httpServer.on("request", (req, res) => {
    handle(req, res).catch((err) => {
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
  await readiness.start();
  app.publicUrl.setListening(url);
  app.webhookDispatcher.start();
  logger.info({ url: `${url}/graphql`, dataDir: config.dataDir, database: app.db.dialect }, "rollback server listening");

  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    schema,
    stop() {
      stopping ??= (async () => {
        maintenance.stop();
        readiness.stop();
        await app.webhookDispatcher.stop(); // attempts in flight finish and are recorded
        await apollo.stop(); // drains HTTP (in-flight requests finish) and closes subscriptions
        await app.close();
      })();
      return stopping;
    },
  };
}

interface Routes {
  git: GitHttpBackend;
  metrics: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  web: StaticFiles;
  readiness: Readiness;
  admission: Admission;
}

async function route(app: App, apollo: ApolloServer<RequestContext>, routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
  if (url.pathname === "/readyz") return routes.readiness.handle(res);
  if (url.pathname === "/metrics") return routes.metrics(req, res);
  if (url.pathname.startsWith("/git/")) return routes.git.handle(req, res, url);
  if (url.pathname === "/graphql" && StaticFiles.wantsExplorer(req, url)) return void res.writeHead(302, { location: EXPLORER_PATH }).end();
  if (url.pathname !== "/graphql") {
    if (await routes.web.handle(req, res, url)) return;
    return sendJson(res, 404, { error: "not found: the API is at /graphql" });
  }

  // Credentials that are sent but refused fail the whole request, before anything runs.
  const context = await callerContext(app, req.headers.authorization);
  const request = currentRequest();
  if (request) request.actor = actorLabel(context.actor);
  if (context.authError) {
    if (request) request.errors = ["UNAUTHENTICATED"];
    return refuseCredentials(req, res, context.authError, AuthService.parseAuthorization(req.headers.authorization) === null);
  }

  let body: unknown = undefined;
  if (req.method === "POST") {
    const raw = await readBody(req, app.config.maxBodyBytes);
    if (raw === null) {
      const message = `request body larger than ${app.config.maxBodyBytes} bytes (HTTP_MAX_BODY_BYTES)`;
      return sendGraphQLError(res, 413, "PAYLOAD_TOO_LARGE", message);
    }
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return sendGraphQLError(res, 400, "BAD_USER_INPUT", "request body is not valid JSON");
      }
    }
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  // A client that hangs up while queued gives its place away.
  const gone = new AbortController();
  const hangUp = () => gone.abort();
  res.once("close", hangUp);
  const answered = await routes.admission.run(
    actorLabel(context.actor) ?? "anonymous",
    async () => {
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body },
        context: async () => context,
      });
      for (const [key, value] of result.headers) res.setHeader(key, value);
      res.statusCode = result.status ?? 200;
      if (result.body.kind === "complete") {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) {
          res.write(chunk);
          (res as { flush?: () => void }).flush?.(); // each part now, not when the compressor's buffer fills
        }
        res.end();
      }
    },
    gone.signal,
  );
  // Answered: closing now is no hang-up (and an abort would build a DOMException for nothing).
  res.off("close", hangUp);
  if (answered === NOT_ADMITTED && !res.writableEnded && !gone.signal.aborted) {
    const message = `server busy: no GraphQL slot within ${app.config.graphqlQueueWaitSeconds} s (GRAPHQL_MAX_CONCURRENT, GRAPHQL_QUEUE_WAIT_SECONDS); retry later`;
    sendGraphQLError(res, 503, "SERVICE_UNAVAILABLE", message, { "retry-after": "5" });
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
