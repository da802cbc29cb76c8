/**
 * GET /metrics in Prometheus' text format (prom-client), behind METRICS_TOKEN: process metrics,
 * GraphQL operations by name and outcome, rollback requests by mode/state/trigger, approvals
 * pending, subscriptions open, Git HTTP slots, agent report age, the database pool. Scraped the
 * way Prometheus does (a GET with the bearer credentials) and parsed from the text format.
 */
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TokenKind } from "../../../entities/enums.js";
import { eventually } from "../../helpers/assertions.js";
import { historyRevisions } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const METRICS_TOKEN = "scrape-me-0123456789abcdef";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

describe("Prometheus /metrics", () => {
  let t: TestServer;
  let jane: string;

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  beforeAll(async () => {
    t = await startTestServer({ env: { METRICS_TOKEN, GIT_HTTP_MAX_PROCESSES: "3", GRAPHQL_MAX_CONCURRENT: "6" } });
    jane = t.tokens["jane@example.com"]!;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("requires the METRICS_TOKEN bearer token when it is set", async () => {
    const none = await fetch(`${t.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: "Bearer wrong-token-of-some-length" } })).status).toBe(401);
    const ok = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("is open when METRICS_TOKEN is unset", async () => {
    const open = await startTestServer();
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it("exposes the process and Node.js runtime metrics", async () => {
    const samples = await scrape();
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(value(samples, name), name).toBeGreaterThanOrEqual(0);
    }
  });

  it("counts GraphQL operations by name and outcome, with a latency histogram", async () => {
    await t.gql(jane, 'query MetricsHistory { deploymentHistory(project: "demo", tenant: "acme", environment: "dev", first: 1) { totalCount } }');
    await t.gql(jane, 'query MetricsHistory { deploymentHistory(project: "demo", tenant: "acme", environment: "dev", first: 1) { totalCount } }');
    await t.gql(jane, 'query MetricsMissing { deploymentHistory(project: "no-such-project", tenant: "acme", environment: "dev", first: 1) { totalCount } }');
    await t.gql(jane, "query MetricsBroken { nope }");
    const samples = await scrape();
    expect(value(samples, "rollback_server_graphql_operations_total", { operation: "MetricsHistory", type: "query", outcome: "ok" })).toBe(2);
    expect(value(samples, "rollback_server_graphql_operations_total", { operation: "MetricsMissing", outcome: "NOT_FOUND" })).toBe(1);
    expect(value(samples, "rollback_server_graphql_operations_total", { operation: "MetricsBroken", outcome: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);
    expect(value(samples, "rollback_server_graphql_operation_duration_seconds_count", { operation: "MetricsHistory", outcome: "ok" })).toBe(2);
    expect(value(samples, "rollback_server_graphql_operation_duration_seconds_bucket", { operation: "MetricsHistory", outcome: "ok", le: "+Inf" })).toBe(2);
    expect(value(samples, "rollback_server_http_requests_total", { route: "graphql", method: "POST", status: "200" })).toBeGreaterThanOrEqual(3);
    expect(value(samples, "rollback_server_http_requests_total", { route: "graphql", method: "POST", status: "400" })).toBe(1); // the invalid one
  });

  it("shows rollback requests by mode, state and trigger, and the approvals pending per project", async () => {
    const staging = await historyRevisions(t, jane, "demo", "acme", "staging", 4);
    const production = await historyRevisions(t, jane, "demo", "acme", "production", 2);
    const request = (environment: string, targetSha: string) =>
      t.ok(jane, `mutation($i: RollbackInput!) { requestRollback(input: $i) { id state } }`, {
        i: { project: "demo", tenant: "acme", environment, mode: "FULL", targetSha, justification: "metrics" },
      });
    await request("staging", staging[3]!);
    await request("production", production[1]!); // production needs an approval in demo
    const samples = await scrape();
    expect(value(samples, "rollback_server_rollback_requests", { mode: "FULL", state: "COMPLETED", trigger: "manual", break_glass: "false" })).toBe(1);
    expect(value(samples, "rollback_server_rollback_requests", { mode: "FULL", state: "PENDING", trigger: "manual" })).toBe(1);
    expect(value(samples, "rollback_server_approvals_pending", { project: "demo" })).toBe(1);
  });

  it("counts open subscriptions and WebSocket connections", async () => {
    const before = value(await scrape(), "rollback_server_subscriptions_open");
    expect(before).toBe(0);
    const client = createClient({ url: t.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${jane}` }, retryAttempts: 0 });
    const dispose = client.subscribe({ query: `subscription { deploymentRecorded(project: "demo") { id } }` }, { next: () => {}, error: () => {}, complete: () => {} });
    await eventually(async () => ((value(await scrape(), "rollback_server_subscriptions_open") ?? 0) === 1 ? true : undefined), "one open subscription", 10_000);
    expect(value(await scrape(), "rollback_server_websocket_connections")).toBe(1);
    dispose();
    await client.dispose();
    await eventually(async () => ((value(await scrape(), "rollback_server_subscriptions_open") ?? 1) === 0 ? true : undefined), "no open subscription", 10_000);
    // Counted as an operation, without a latency (a subscription's lifetime is none).
    const samples = await scrape();
    expect(value(samples, "rollback_server_graphql_operations_total", { operation: "anonymous", type: "subscription", outcome: "ok" })).toBe(1);
    expect(value(samples, "rollback_server_graphql_operation_duration_seconds_count", { type: "subscription" })).toBeUndefined();
  });

  it("shows the Git HTTP slots (in use, queued, the limit) and the database pool", async () => {
    const samples = await scrape();
    expect(value(samples, "rollback_server_git_http_slots_in_use")).toBe(0);
    expect(value(samples, "rollback_server_git_http_slots_queued")).toBe(0);
    expect(value(samples, "rollback_server_git_http_slots_max")).toBe(3);
    expect(value(samples, "rollback_server_db_pool_connections", { state: "total" })).toBe(1);
  });

  it("shows the GraphQL operation slots: executing, queued and the limit", async () => {
    const samples = await scrape();
    // The scrape is no GraphQL operation: nothing executes or waits while it is answered.
    expect(value(samples, "rollback_server_graphql_slots_in_use")).toBe(0);
    expect(value(samples, "rollback_server_graphql_slots_queued")).toBe(0);
    expect(value(samples, "rollback_server_graphql_slots_max")).toBe(6);
  });

  it("shows how long ago each tenant-environment's agent reported", async () => {
    const issued = await t.app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.AGENT, projectSlug: "demo" });
    const [revision] = await historyRevisions(t, jane, "demo", "globex", "dev", 1);
    await t.ok(issued.token, `mutation($i: SyncReportInput!) { reportSyncStatus(input: $i) { state } }`, {
      i: { project: "demo", tenant: "globex", environment: "dev", revision, state: "SYNCED", health: "Healthy", drift: [] },
    });
    const age = value(await scrape(), "rollback_server_agent_report_age_seconds", { project: "demo", tenant: "globex", environment: "dev" });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
  });
});
