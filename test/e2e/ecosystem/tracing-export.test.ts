/**
 * Tracing is off by default and costs nothing: the built server does not even load the
 * OpenTelemetry SDK. With OTEL_EXPORTER_OTLP_ENDPOINT set it exports its spans over OTLP/HTTP
 * (the official exporter) to that endpoint, here a collector stand-in that records what it gets,
 * and flushes them when it stops. A module resolution hook in the server process reports every
 * import of the SDK.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { copyOfTemplate } from "../../helpers/server.js";

const HOOK = `import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (/^@opentelemetry\\/(sdk-|exporter-)/.test(specifier)) process.stderr.write("SDK-LOADED " + specifier + "\\n");
    return nextResolve(specifier, context);
  },
});
`;

interface OtlpSpan {
  traceId: string;
  parentSpanId?: string;
  name: string;
}

describe("tracing in the built server", () => {
  let hookDir: string;
  let collector: http.Server;
  let collectorUrl: string;
  const exports: {
    path: string;
    body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
  }[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    hookDir = mkdtempSync(path.join(tmpdir(), "rbs-otel-hook-"));
    writeFileSync(path.join(hookDir, "hook.mjs"), HOOK);
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        exports.push({ path: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        res.setHeader("content-type", "application/json");
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => collector?.close(resolve));
    for (const dir of [hookDir, ...dirs]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the built server with the hook, makes one traced request, stops it, and returns its output. */
  async function runOnce(env: Record<string, string>, traceId: string): Promise<ServerProcess> {
    const dataDir = copyOfTemplate("rbs-otel-");
    dirs.push(dataDir);
    const jane = (JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>)["jane@example.com"]!;
    const server = spawnNode("dist/src/main.js", [], {
      DATA_DIR: dataDir,
      PORT: "0",
      SEED: "none",
      LOG_LEVEL: "info",
      NODE_OPTIONS: `--import ${path.join(hookDir, "hook.mjs")}`,
      ...env,
    });
    try {
      const url = String((await server.logLine("rollback server listening", 240_000)).url);
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${jane}`, traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        body: JSON.stringify({ query: `query Exported { deploymentHistory(project: "demo", tenant: "acme", environment: "dev", first: 1) { totalCount } }` }),
      });
      expect(res.status).toBe(200);
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
    return server;
  }

  it("does not load the SDK and exports nothing when no OTLP endpoint is configured", async () => {
    const server = await runOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }, "2af7651916cd43dd8448eb211c80319e");
    expect(server.stderr.filter((l) => l.startsWith("SDK-LOADED"))).toEqual([]);
    expect(server.stdout.some((l) => l.includes("tracing on"))).toBe(false);
    expect(exports).toEqual([]);
  });

  it("exports the spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, continuing the caller's trace, and flushes them on SIGTERM", async () => {
    const traceId = "3af7651916cd43dd8448eb211c80319f";
    const server = await runOnce({ OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl, OTEL_SERVICE_NAME: "rollback-test" }, traceId);
    expect(server.stderr.some((l) => l.startsWith("SDK-LOADED @opentelemetry/sdk-trace"))).toBe(true);
    expect(exports.length).toBeGreaterThan(0);
    expect(new Set(exports.map((e) => e.path))).toEqual(new Set(["/v1/traces"]));
    const resources = exports.flatMap((e) => e.body.resourceSpans);
    const serviceNames = resources.map((r) => r.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue);
    expect(new Set(serviceNames)).toEqual(new Set(["rollback-test"]));
    const spans = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).filter((s) => s.traceId === traceId);
    const names = spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["query Exported", "DeploymentService.history", "SELECT"]));
    expect(spans.find((s) => s.name === "query Exported")!.parentSpanId).toBe("b7ad6b7169203331");
  });
});
