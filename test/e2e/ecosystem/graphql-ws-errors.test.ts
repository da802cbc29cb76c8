/**
 * graphql-ws: an operation with a syntax error, an unknown field or a missing variable gets a
 * coded GraphQL error on that operation only (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
 * BAD_USER_INPUT, status 400). The socket and its other subscriptions stay open, and the
 * server's log stays one JSON object per line with no error logged. Driven with the graphql-ws
 * client against the built server in its own process.
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../../helpers/assertions.js";
import { DEPLOY, DEPLOYMENT_RECORDED } from "../../helpers/operations.js";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { copyOfTemplate } from "../../helpers/server.js";

type WsError = { message: string; extensions?: { code?: string; status?: number } };

/** Subscribes and resolves with the operation's error payload (or rejects if it gets data instead). */
function operationErrors(client: Client, payload: { query: string; variables?: Record<string, unknown> }): Promise<WsError[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(payload, {
      next: (value) => reject(new Error(`expected an error, got ${JSON.stringify(value)}`)),
      error: (err) => (Array.isArray(err) ? resolve(err as WsError[]) : reject(new Error(`the socket failed instead: ${JSON.stringify(err)}`))),
      complete: () => reject(new Error("completed without an error")),
    });
  });
}

describe("graphql-ws: invalid operations fail alone, with codes", () => {
  let server: ServerProcess;
  let dataDir: string;
  let graphqlUrl: string;
  let jane: string;

  beforeAll(async () => {
    dataDir = copyOfTemplate("rbs-ws-errors-");
    jane = (JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>)["jane@example.com"]!;
    server = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "none", LOG_LEVEL: "info" });
    graphqlUrl = String((await server.logLine("rollback server listening", 240_000)).url);
  });
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.exited;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers each bad operation with its code while a subscription on the same socket keeps receiving events", async () => {
    const closes: number[] = [];
    const client = createClient({ url: graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${jane}` }, retryAttempts: 0 });
    client.on("closed", (event) => closes.push((event as { code: number }).code));

    const events: { deploymentRecorded: { summary: string } }[] = [];
    const dispose = client.subscribe<{ deploymentRecorded: { summary: string } }>(
      { query: DEPLOYMENT_RECORDED, variables: { p: "demo", t: "acme", e: "dev" } },
      { next: (v) => void (v.data && events.push(v.data)), error: (e) => events.push({ deploymentRecorded: { summary: `ERROR ${JSON.stringify(e)}` } }), complete: () => {} },
    );

    const syntax = await operationErrors(client, { query: "subscription { deploymentRecorded(project: " });
    expect(syntax).toHaveLength(1);
    expect(syntax[0]!.message).toMatch(/^Syntax Error/);
    expect(syntax[0]!.extensions).toEqual({ code: "GRAPHQL_PARSE_FAILED", status: 400 });

    const unknownField = await operationErrors(client, { query: `subscription { deploymentRecorded(project: "demo") { id colour } }` });
    expect(unknownField[0]!.message).toBe('Cannot query field "colour" on type "Deployment".');
    expect(unknownField[0]!.extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED", status: 400 });

    const missingVariable = await operationErrors(client, { query: DEPLOYMENT_RECORDED, variables: {} });
    expect(missingVariable[0]!.message).toBe('Variable "$p" of required type "String!" was not provided.');
    expect(missingVariable[0]!.extensions).toEqual({ code: "BAD_USER_INPUT", status: 400 });

    const wrongType = await operationErrors(client, { query: DEPLOYMENT_RECORDED, variables: { p: 42 } });
    expect(wrongType[0]!.extensions).toEqual({ code: "BAD_USER_INPUT", status: 400 });

    // The socket is still open, and the first subscription still works.
    const res = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${jane}` },
      body: JSON.stringify({
        query: DEPLOY,
        variables: { input: { project: "demo", tenant: "acme", environment: "dev", service: "web", set: { replicas: 4 }, summary: "after the bad operations" } },
      }),
    });
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
    await eventually(async () => (events.length > 0 ? true : undefined), "the deployment event", 20_000);
    expect(events[0]!.deploymentRecorded.summary).toBe("after the bad operations");
    expect(closes).toEqual([]);
    dispose();
    await client.dispose();
  });

  it("keeps the log one JSON object per line, logs each refused operation with its code, and logs no error", async () => {
    const lines = await eventually(async () => {
      const ws = server.stdout.filter((l) => l.includes('"websocket operation"'));
      return ws.length >= 5 ? server.stdout : undefined;
    }, "the websocket operation log lines");
    const parsed = lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
    const operations = parsed.filter((l) => l.msg === "websocket operation");
    const codes = operations.map((l) => (l.errors as string[] | undefined)?.[0] ?? "ok");
    expect(codes).toEqual(expect.arrayContaining(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "ok"]));
    expect(codes).not.toContain("INTERNAL_SERVER_ERROR");
    for (const line of operations) {
      expect(line).toMatchObject({ transport: "websocket", actor: expect.stringMatching(/^user:/), requestId: expect.any(String), ms: expect.any(Number) });
    }
    expect(operations.find((l) => l.errors === undefined)).toMatchObject({ operation: "Recorded", operationType: "subscription" });
  });
});
