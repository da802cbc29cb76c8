import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { IsNull, Not } from "typeorm";
import { RollbackRequestState } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import { WebhookDelivery, WebhookDeliveryState } from "../../entities/webhook.js";
import type { Database } from "../db/database.js";

/** What the metrics read from the running server when Prometheus scrapes. */
export interface MetricSources {
  db: Database;
  /** git http-backend slots: in use, waiting for one, and the limit (GIT_HTTP_MAX_PROCESSES). */
  gitHttpSlots: () => { inUse: number; queued: number; capacity: number };
  /** GraphQL operation slots over HTTP: executing, waiting for one, and the limit (GRAPHQL_MAX_CONCURRENT). */
  graphqlSlots: () => { inUse: number; queued: number; capacity: number };
  websocketConnections: () => number;
}

const PREFIX = "rollback_server_";

type SlotUsage = { inUse: number; queued: number; capacity: number };

/** `<name>_in_use`, `<name>_queued` and `<name>_max` of a pool of slots, read at each scrape. */
function slotGauges(registers: Registry[], name: string, usage: () => SlotUsage, help: Record<keyof SlotUsage, string>): void {
  const suffixes: Record<keyof SlotUsage, string> = { inUse: "in_use", queued: "queued", capacity: "max" };
  for (const key of Object.keys(suffixes) as (keyof SlotUsage)[]) {
    new Gauge({
      name: `${PREFIX}${name}_${suffixes[key]}`,
      help: help[key],
      registers,
      collect() {
        this.set(usage()[key]);
      },
    });
  }
}
/** GraphQL operation names become label values: only well-formed names, and at most this many distinct ones. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const OUTCOMES = new Set([
  "ok",
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "EXECUTION_FAILED",
  "INTERNAL_SERVER_ERROR",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/**
 * The server's Prometheus metrics (prom-client): process and Node.js runtime metrics, GraphQL
 * operations, HTTP requests, subscriptions, Git HTTP slots, and gauges read from the database at
 * scrape time (rollback requests, approvals pending, agent report age, connection pool). The
 * database-derived gauges describe the whole deployment, so with several replicas aggregate
 * them with max(), not sum().
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private readonly operations: Counter<"operation" | "type" | "outcome">;
  private readonly operationSeconds: Histogram<"operation" | "type" | "outcome">;
  private readonly httpRequests: Counter<"route" | "method" | "status">;
  private readonly httpSeconds: Histogram<"route" | "method">;
  private readonly subscriptions: Gauge;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.operations = new Counter({
      name: `${PREFIX}graphql_operations_total`,
      help: "GraphQL operations over HTTP and graphql-ws by operation name, type (query, mutation, subscription) and outcome (ok or the first error code)",
      labelNames: ["operation", "type", "outcome"],
      registers,
    });
    this.operationSeconds = new Histogram({
      name: `${PREFIX}graphql_operation_duration_seconds`,
      help: "Time from receiving a GraphQL query or mutation to sending its response, by operation name, type and outcome",
      labelNames: ["operation", "type", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.httpRequests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: "HTTP requests by route, method and response status, refused ones included",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: "HTTP request duration by route and method",
      labelNames: ["route", "method"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.subscriptions = new Gauge({ name: `${PREFIX}subscriptions_open`, help: "GraphQL subscriptions open on this replica", registers });
    new Gauge({
      name: `${PREFIX}websocket_connections`,
      help: "graphql-ws connections open on this replica",
      registers,
      collect() {
        this.set(sources.websocketConnections());
      },
    });
    slotGauges(registers, "git_http_slots", sources.gitHttpSlots, {
      inUse: "git http-backend processes serving clones and fetches now",
      queued: "Clones and fetches waiting for a git http-backend slot",
      capacity: "git http-backend processes allowed at once (GIT_HTTP_MAX_PROCESSES)",
    });
    slotGauges(registers, "graphql_slots", sources.graphqlSlots, {
      inUse: "GraphQL operations over HTTP executing now",
      queued: "GraphQL operations over HTTP waiting for a slot (a steady queue means the server is saturated)",
      capacity: "GraphQL operations over HTTP allowed to execute at once (GRAPHQL_MAX_CONCURRENT)",
    });

    const db = sources.db;
    new Gauge({
      name: `${PREFIX}rollback_requests`,
      help: "Rollback requests by mode, state, trigger and whether a break-glass session bypassed approval",
      labelNames: ["mode", "state", "trigger", "break_glass"],
      registers,
      async collect() {
        const rows = await db.manager
          .createQueryBuilder(RollbackRequest, "r")
          .select("r.mode", "mode")
          .addSelect("r.state", "state")
          .addSelect("r.trigger", "trigger")
          .addSelect("r.breakGlass", "breakGlass")
          .addSelect("COUNT(*)", "count")
          .groupBy("r.mode")
          .addGroupBy("r.state")
          .addGroupBy("r.trigger")
          .addGroupBy("r.breakGlass")
          .getRawMany<{ mode: string; state: string; trigger: string; breakGlass: unknown; count: string | number }>();
        this.reset();
        for (const row of rows) {
          this.inc({ mode: row.mode, state: row.state, trigger: row.trigger.toLowerCase(), break_glass: String(truthy(row.breakGlass)) }, Number(row.count));
        }
      },
    });
    new Gauge({
      name: `${PREFIX}approvals_pending`,
      help: "Rollback requests waiting for approval, by project",
      labelNames: ["project"],
      registers,
      async collect() {
        const rows = await db.manager
          .createQueryBuilder(RollbackRequest, "r")
          .select("r.projectSlug", "project")
          .addSelect("COUNT(*)", "count")
          .where("r.state = :state", { state: RollbackRequestState.PENDING })
          .groupBy("r.projectSlug")
          .getRawMany<{ project: string; count: string | number }>();
        this.reset();
        for (const row of rows) this.set({ project: row.project }, Number(row.count));
      },
    });
    new Gauge({
      name: `${PREFIX}agent_report_age_seconds`,
      help: "Seconds since the cluster agent last reported, per tenant-environment that has had a report",
      labelNames: ["project", "tenant", "environment"],
      registers,
      async collect() {
        const [environments, projects] = await Promise.all([
          db.manager.find(TenantEnvironment, { where: { lastReportAt: Not(IsNull()) } }),
          db.manager.find(Project, { select: { id: true, slug: true } }),
        ]);
        const slugs = new Map(projects.map((p) => [p.id, p.slug]));
        const now = Date.now();
        this.reset();
        for (const te of environments) {
          const project = slugs.get(te.projectId);
          if (!project || !te.lastReportAt) continue;
          this.set({ project, tenant: te.tenantSlug, environment: te.environment }, Math.max(0, (now - te.lastReportAt.getTime()) / 1000));
        }
      },
    });
    new Gauge({
      name: `${PREFIX}webhook_deliveries`,
      help: "Webhook deliveries by state (PENDING is the queue still to send; settled ones are kept WEBHOOK_RETENTION_DAYS)",
      labelNames: ["state"],
      registers,
      async collect() {
        const rows = await db.manager
          .createQueryBuilder(WebhookDelivery, "d")
          .select("d.state", "state")
          .addSelect("COUNT(*)", "count")
          .groupBy("d.state")
          .getRawMany<{ state: WebhookDeliveryState; count: string | number }>();
        this.reset();
        for (const state of Object.values(WebhookDeliveryState)) this.set({ state }, Number(rows.find((r) => r.state === state)?.count ?? 0));
      },
    });
    new Gauge({
      name: `${PREFIX}webhook_oldest_pending_seconds`,
      help: "Age of the oldest webhook delivery still PENDING (0 when none): a receiver down, or deliveries not going out",
      registers,
      async collect() {
        const oldest = await db.manager.findOne(WebhookDelivery, {
          where: { state: WebhookDeliveryState.PENDING },
          order: { createdAt: "ASC" },
          select: { id: true, createdAt: true },
        });
        this.set(oldest ? Math.max(0, (Date.now() - new Date(oldest.createdAt).getTime()) / 1000) : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}db_pool_connections`,
      help: "Database connections by state (PostgreSQL pool: total, idle, and clients waiting for one; SQLite: its one connection)",
      labelNames: ["state"],
      registers,
      collect() {
        const pool =
          db.dialect === "postgres" ? (db.dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master : undefined;
        this.reset();
        if (pool) {
          this.set({ state: "total" }, pool.totalCount);
          this.set({ state: "idle" }, pool.idleCount);
          this.set({ state: "waiting" }, pool.waitingCount);
        } else {
          this.set({ state: "total" }, db.dataSource.isInitialized ? 1 : 0);
        }
      },
    });
  }

  /** One GraphQL operation; `seconds` null for a subscription, whose lifetime is no latency. */
  recordOperation(name: string | null | undefined, type: string | null | undefined, outcome: string, seconds: number | null): void {
    const labels = { operation: this.operationLabel(name), type: type ?? "unknown", outcome: OUTCOMES.has(outcome) ? outcome : "INTERNAL_SERVER_ERROR" };
    this.operations.inc(labels);
    if (seconds !== null) this.operationSeconds.observe(labels, seconds);
  }

  recordHttpRequest(route: string, method: string, status: number, seconds: number): void {
    const m = ["GET", "POST", "OPTIONS", "HEAD"].includes(method) ? method : "other";
    this.httpRequests.inc({ route, method: m, status: String(status) });
    this.httpSeconds.observe({ route, method: m }, seconds);
  }

  subscriptionStarted(): void {
    this.subscriptions.inc();
  }

  subscriptionEnded(): void {
    this.subscriptions.dec();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private operationLabel(name: string | null | undefined): string {
    if (!name) return "anonymous";
    if (!OPERATION_NAME.test(name)) return "invalid";
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return "other";
    this.operationNames.add(name);
    return name;
  }
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true" || value === "t";
}
