import { Client, fetchExchange, makeOperation, mapExchange, subscriptionExchange, type CombinedError, type Operation } from "@urql/core";
import { cacheExchange, type Cache, type KeyingConfig } from "@urql/exchange-graphcache";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { graphql } from "../gql";

/**
 * Types the console reads without an id are stored inside the entity that holds them (Graphcache's
 * embedded data), so e.g. a tenant-environment's sync status updates with the tenant-environment.
 * (SyncStatus, ApprovalPolicy, Review and RollbackNote have ids now; the console's documents do
 * not select them, so they stay embedded here.)
 */
const EMBEDDED = [
  "SyncStatus",
  "DriftItem",
  "ApprovalPolicy",
  "Review",
  "RollbackNote",
  "FieldChange",
  "FileDiff",
  "ServiceDiff",
  "ServiceState",
  "ImpactSummary",
  "RevisionComparison",
  "RollbackPreview",
  "PageInfo",
  "DeploymentConnection",
  "DeploymentEdge",
  "RollbackRequestConnection",
  "RollbackRequestEdge",
  "AuditEventConnection",
  "AuditEventEdge",
  "RollbackModeAvailability",
  "ReviewEligibility",
  "AuditChainVerification",
  "AuditChainBreak",
];
const keys: KeyingConfig = Object.fromEntries(EMBEDDED.map((type) => [type, () => null]));

const SyncOfTenantEnvironment = graphql(`
  fragment SyncOfTenantEnvironment on TenantEnvironment {
    id
    sync {
      agent
      state
      health
      revision
      lastReportAt
      drift {
        kind
        name
        field
        desired
        actual
      }
    }
  }
`);

/** Lists whose membership a change can alter (a request leaving the PENDING queue) are fetched again. */
function invalidateQueryField(cache: Cache, fieldName: string): void {
  for (const field of cache.inspectFields("Query")) {
    if (field.fieldName === fieldName) cache.invalidate("Query", field.fieldName, field.arguments ?? undefined);
  }
}

/** Every cached project's open break-glass session is read again after one is opened or closed. */
function invalidateBreakGlass(cache: Cache): void {
  const projectKeys = new Set<string>();
  for (const field of cache.inspectFields("Query")) {
    if (field.fieldName !== "project" && field.fieldName !== "projects") continue;
    const link = cache.resolve("Query", field.fieldName, field.arguments ?? undefined);
    for (const key of [link].flat()) if (typeof key === "string") projectKeys.add(key);
  }
  for (const key of projectKeys) cache.invalidate(key, "activeBreakGlassSession");
}

/** The cached tenant-environment a sync event is about, found through the projects that hold it. */
function tenantEnvironmentKey(cache: Cache, project: string, tenant: string, environment: string): string | null {
  const direct = cache.resolve("Query", "tenantEnvironment", { project, tenant, environment });
  if (typeof direct === "string") return direct;
  const projectKey = cache.resolve("Query", "project", { slug: project });
  if (typeof projectKey !== "string") return null;
  for (const tenantKey of [cache.resolve(projectKey, "tenants")].flat()) {
    if (typeof tenantKey !== "string" || cache.resolve(tenantKey, "slug") !== tenant) continue;
    for (const teKey of [cache.resolve(tenantKey, "environments")].flat()) {
      if (typeof teKey === "string" && cache.resolve(teKey, "name") === environment) return teKey;
    }
  }
  return null;
}

/** Whether live updates flow: "idle" until a page subscribes, then "live" or "reconnecting". */
export type LiveState = "idle" | "live" | "reconnecting";

export interface ConsoleClient {
  client: Client;
  live: { get(): LiveState; subscribe(listener: () => void): () => void };
  dispose(): void;
}

/** The console's GraphQL client: HTTP POST for queries and mutations, graphql-ws for subscriptions, one normalised cache. */
export function createConsoleClient(token: string, onAuthFailure: (message: string) => void): ConsoleClient {
  const origin = window.location.origin;
  let liveState: LiveState = "idle";
  // The socket also closes when the last subscription ends (lazy): that is idle, not an outage.
  let activeSubscriptions = 0;
  // Queries on screen, so that after an outage of the socket they are fetched again: the events
  // sent while it was down are lost, the pages must not show the state from before it.
  const activeQueries = new Map<number, Operation>();
  const liveListeners = new Set<() => void>();
  const setLive = (state: LiveState) => {
    liveState = state;
    for (const listener of liveListeners) listener();
  };
  const ws: WsClient = createWsClient({
    url: origin.replace(/^http/, "ws") + "/graphql",
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    // A dashboard left open through an incident: keep reconnecting while the server restarts.
    retryAttempts: Infinity,
    shouldRetry: (event) => !(event && typeof event === "object" && "code" in event && (event as CloseEvent).code === 4401),
    on: {
      connected: () => {
        const wasInterrupted = liveState === "reconnecting";
        setLive("live");
        if (!wasInterrupted) return;
        for (const op of activeQueries.values()) client.reexecuteOperation(makeOperation("query", op, { ...op.context, requestPolicy: "network-only" }));
      },
      closed: (event) => {
        setLive(activeSubscriptions > 0 ? "reconnecting" : "idle");
        if (event && typeof event === "object" && "code" in event && (event as CloseEvent).code === 4401) {
          onAuthFailure((event as CloseEvent).reason || "the server refused the token");
        }
      },
    },
  });

  const client: Client = new Client({
    url: "/graphql",
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      mapExchange({
        onOperation(op) {
          if (op.kind === "query") activeQueries.set(op.key, op);
          else if (op.kind === "teardown") activeQueries.delete(op.key);
        },
        onError(error: CombinedError) {
          const unauthenticated = error.graphQLErrors.find((e) => e.extensions?.code === "UNAUTHENTICATED");
          if (unauthenticated) onAuthFailure(unauthenticated.message);
        },
      }),
      cacheExchange({
        keys,
        updates: {
          Mutation: {
            requestRollback: (_result, _args, cache) => invalidateQueryField(cache, "rollbackRequests"),
            reviewRollbackRequest: (_result, _args, cache) => invalidateQueryField(cache, "rollbackRequests"),
            openBreakGlassSession: (_result, _args, cache) => invalidateBreakGlass(cache),
            closeBreakGlassSession: (_result, _args, cache) => invalidateBreakGlass(cache),
          },
          Subscription: {
            rollbackRequestUpdated: (_result, _args, cache) => invalidateQueryField(cache, "rollbackRequests"),
            syncStatusChanged: (result, args, cache) => {
              const event = result.syncStatusChanged as { tenant?: string | null; environment?: string | null; [k: string]: unknown } | null;
              if (!event?.tenant || !event.environment) return;
              const key = tenantEnvironmentKey(cache, args.project as string, event.tenant, event.environment);
              if (!key) return;
              const id = cache.resolve(key, "id");
              if (typeof id === "string")
                cache.writeFragment(SyncOfTenantEnvironment, { __typename: "TenantEnvironment", id, sync: { __typename: "SyncStatus", ...event } } as never);
            },
          },
        },
      }),
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              activeSubscriptions++;
              const stop = ws.subscribe(input, sink);
              let stopped = false;
              return {
                unsubscribe() {
                  if (stopped) return;
                  stopped = true;
                  activeSubscriptions--;
                  stop();
                },
              };
            },
          };
        },
      }),
      fetchExchange,
    ],
  });

  return {
    client,
    live: {
      get: () => liveState,
      subscribe: (listener) => {
        liveListeners.add(listener);
        return () => liveListeners.delete(listener);
      },
    },
    dispose: () => void ws.dispose(),
  };
}
