/**
 * OpenTelemetry traces with the official SDK and its in-memory exporter: each GraphQL request
 * is a SERVER span named after its operation that continues the caller's W3C traceparent, with
 * the service calls, Git operations and SQL statements it made nested inside. Driven with
 * graphql-request, as a traced client would call.
 */
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { GraphQLClient } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/logger.js";
import { startTracing, type Tracing } from "../../../src/observability/tracing.js";
import { eventually } from "../../helpers/assertions.js";
import { historyRevisions } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const PARENT_SPAN_ID = "b7ad6b7169203331";

describe("OpenTelemetry tracing (in-memory exporter)", () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | null;
  let t: TestServer;
  let jane: string;

  beforeAll(async () => {
    tracing = await startTracing({ tracesUrl: null, logger: createLogger("silent"), exporter });
    t = await startTestServer();
    jane = t.tokens["jane@example.com"]!;
  });
  afterAll(async () => {
    await t?.stop();
    await tracing?.shutdown();
  });

  /** The spans of one trace, once its server span has ended. */
  const traceOf = (traceId: string, serverSpanName: string) =>
    eventually(async () => {
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      return spans.some((s) => s.name === serverSpanName) ? spans : undefined;
    }, `the spans of ${serverSpanName}`);

  /** True when `span` is `ancestor` or below it. */
  const under = (spans: ReadableSpan[], span: ReadableSpan, ancestor: ReadableSpan): boolean => {
    for (let s: ReadableSpan | undefined = span; s; s = spans.find((p) => p.spanContext().spanId === s!.parentSpanContext?.spanId)) {
      if (s === ancestor) return true;
    }
    return false;
  };

  it("continues the caller's traceparent with a server span named after the operation, service, Git and SQL spans inside", async () => {
    const client = new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${jane}`, traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } });
    await client.request(`query TracedHistory { deploymentHistory(project: "demo", tenant: "acme", environment: "production", first: 2) { nodes { revision } } }`);
    const spans = await traceOf(TRACE_ID, "query TracedHistory");

    const server = spans.find((s) => s.name === "query TracedHistory")!;
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(server.attributes).toMatchObject({
      "graphql.operation.name": "TracedHistory",
      "graphql.operation.type": "query",
      "http.request.method": "POST",
      "http.route": "graphql",
      "http.response.status_code": 200,
    });

    const service = spans.find((s) => s.name === "DeploymentService.history");
    expect(service, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(under(spans, service!, server)).toBe(true);

    const sql = spans.filter((s) => s.attributes["db.system.name"] === "sqlite" && s.name === "SELECT");
    expect(sql.length).toBeGreaterThan(0);
    for (const s of sql) expect(under(spans, s, server)).toBe(true);
    expect(String(sql[0]!.attributes["db.query.text"])).toMatch(/^SELECT/);
  });

  it("traces a rollback through the service, the Git commit and the database transaction", async () => {
    const [, , , target] = await historyRevisions(t, jane, "demo", "globex", "staging", 4);
    const traceId = "1af7651916cd43dd8448eb211c80319d";
    const client = new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${jane}`, traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01` } });
    await client.request(`mutation TracedRollback($i: RollbackInput!) { requestRollback(input: $i) { id state } }`, {
      i: { project: "demo", tenant: "globex", environment: "staging", mode: "FULL", targetSha: target, justification: "traced" },
    });
    const spans = await traceOf(traceId, "mutation TracedRollback");
    const names = spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["mutation TracedRollback", "RollbackService.request", "git.open", "git.commit", "db.transaction", "INSERT"]));
    const commit = spans.find((s) => s.name === "git.commit")!;
    expect(commit.attributes["vcs.repository.name"]).toBe("demo");
    expect(commit.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("starts a new trace when the request carries no traceparent, and notes a caller's error without marking the span failed", async () => {
    const client = new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${jane}` } });
    await client.request(`query TracedMissing { deploymentHistory(project: "no-such", tenant: "acme", environment: "dev", first: 1) { totalCount } }`).catch(() => null);
    const server = await eventually(async () => exporter.getFinishedSpans().find((s) => s.name === "query TracedMissing"), "the server span");
    expect(server.parentSpanContext).toBeUndefined();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === server.spanContext().traceId);
    const service = spans.find((s) => s.name === "DeploymentService.history")!;
    expect(service.attributes["error.type"]).toBe("NOT_FOUND");
    expect(service.status.code).not.toBe(SpanStatusCode.ERROR);
  });
});
