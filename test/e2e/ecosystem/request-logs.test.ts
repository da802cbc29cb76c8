/**
 * The built server's logs, as an operator's log pipeline reads them: stdout is JSON lines only
 * (the demo's tokens go to stderr as plain text); every request gets one line with its request
 * id, actor (user or agent id, never the token), GraphQL operation, HTTP status and duration;
 * refused requests and WebSocket operations are logged too; every other line written while a
 * request is handled carries the same request id; X-Request-Id is echoed, traceparent's trace
 * id is logged.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../../helpers/assertions.js";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";

type Line = Record<string, unknown> & { msg: string; level: string };

describe("request logs of the built server", () => {
  let server: ServerProcess;
  let dataDir: string;
  let base: string;
  let tokens: Record<string, string>;

  const lines = (): Line[] => server.stdout.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Line);
  const requestLine = (requestId: string) =>
    eventually(async () => lines().find((l) => l.msg === "request" && l.requestId === requestId), `the request line of ${requestId}`, 20_000);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "rbs-request-logs-"));
    // The execution pause makes the rollback service log a line in the middle of a request.
    server = spawnNode("dist/src/main.js", [], { DATA_DIR: dataDir, PORT: "0", SEED: "demo", LOG_LEVEL: "info", EXECUTION_PAUSE_AT: "before-commit", EXECUTION_PAUSE_MS: "1" });
    base = String((await server.logLine("rollback server listening", 240_000)).url).replace(/\/graphql$/, "");
    tokens = JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
  });
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.exited;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints the seeded demo tokens on stderr as plain text, and keeps stdout JSON only", () => {
    const stderr = server.stderr.join("\n");
    expect(stderr).toContain("Demo data seeded. Tokens");
    for (const [email, token] of Object.entries(tokens)) expect(stderr).toMatch(new RegExp(`${email.replace(".", "\\.")}\\s+${token}`));
    for (const line of server.stdout.filter((l) => l.trim() !== "")) expect((): unknown => JSON.parse(line)).not.toThrow();
  });

  it("logs a query with the caller's request id, the user's id, the operation, the status and the duration", async () => {
    const res = await post({ query: "query WhoAmI { me { id email } }" }, { authorization: `Bearer ${tokens["jane@example.com"]}`, "x-request-id": "ticket-4711.a" });
    expect(res.headers.get("x-request-id")).toBe("ticket-4711.a");
    const { me } = ((await res.json()) as { data: { me: { id: string } } }).data;
    const line = await requestLine("ticket-4711.a");
    expect(line).toMatchObject({ level: "info", method: "POST", path: "/graphql", status: 200, actor: `user:${me.id}`, operation: "WhoAmI", operationType: "query" });
    expect(typeof line.ms).toBe("number");
  });

  it("generates a request id when none (or an unusable one) is sent, and echoes it", async () => {
    const none = await post({ query: "{ __typename }" }, { authorization: `Bearer ${tokens["victor@example.com"]}` });
    const generated = none.headers.get("x-request-id")!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(await requestLine(generated)).toMatchObject({ status: 200 });
    const hostile = await post({ query: "{ __typename }" }, { authorization: `Bearer ${tokens["victor@example.com"]}`, "x-request-id": "x".repeat(300) });
    expect(hostile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes the same request id on every line logged while the request runs", async () => {
    const jane = tokens["jane@example.com"]!;
    const history = (await (
      await post({ query: `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",first:4){ nodes { revision } } }` }, { authorization: `Bearer ${jane}` })
    ).json()) as {
      data: { deploymentHistory: { nodes: { revision: string }[] } };
    };
    const target = history.data.deploymentHistory.nodes[3]!.revision;
    const res = await post(
      {
        query: `mutation Roll($i: RollbackInput!) { requestRollback(input: $i) { id state } }`,
        variables: { i: { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: target, justification: "log test" } },
      },
      { authorization: `Bearer ${jane}`, "x-request-id": "rollback-with-a-pause" },
    );
    expect(((await res.json()) as { data: { requestRollback: { state: string } } }).data.requestRollback.state).toBe("COMPLETED");
    await requestLine("rollback-with-a-pause");
    const paused = lines().find((l) => l.msg === "execution paused by test hook");
    expect(paused).toMatchObject({ requestId: "rollback-with-a-pause", level: "warn" });
    expect(lines().find((l) => l.msg === "request" && l.requestId === "rollback-with-a-pause")).toMatchObject({ operation: "Roll", operationType: "mutation", status: 200 });
  });

  it("logs the trace id of a W3C traceparent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await post({ query: "{ __typename }" }, { authorization: `Bearer ${tokens["victor@example.com"]}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const line = await requestLine(res.headers.get("x-request-id")!);
    expect(line.traceId).toBe(traceId);
  });

  it("logs refused requests: a refused token (401), a CSRF-blocked GET (400), an unknown path (404), a CORS preflight", async () => {
    const refused = await post({ query: "{ me { email } }" }, { authorization: "Bearer rbs_wrong", "x-request-id": "refused-token" });
    expect(refused.status).toBe(401);
    expect(await requestLine("refused-token")).toMatchObject({ status: 401, actor: null, errors: ["UNAUTHENTICATED"] });

    const csrf = await fetch(`${base}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { "x-request-id": "csrf-get" } });
    expect(csrf.status).toBe(400);
    expect(await requestLine("csrf-get")).toMatchObject({ status: 400, method: "GET" });

    await fetch(`${base}/nothing-here`, { headers: { "x-request-id": "not-found" } });
    expect(await requestLine("not-found")).toMatchObject({ status: 404, path: "/nothing-here" });

    await fetch(`${base}/graphql`, { method: "OPTIONS", headers: { "x-request-id": "preflight", origin: "https://elsewhere.example", "access-control-request-method": "POST" } });
    expect(await requestLine("preflight")).toMatchObject({ status: 204, method: "OPTIONS" });
  });

  it("names an agent by its token id, and no log line ever carries a token", async () => {
    const cli = spawnNode("dist/src/cli/main.js", ["token", "create", "--agent", "--project", "demo", "--json"], { DATA_DIR: dataDir, LOG_LEVEL: "warn" });
    expect(await cli.exited).toBe(0);
    const agent = JSON.parse(cli.stdout.join("")) as { token: string; id: string };
    await post({ query: "{ me { email } }" }, { authorization: `Bearer ${agent.token}`, "x-request-id": "agent-call" });
    expect(await requestLine("agent-call")).toMatchObject({ actor: `agent:${agent.id}` });
    const all = server.stdout.join("\n");
    for (const token of [...Object.values(tokens), agent.token]) expect(all).not.toContain(token);
  });

  it("logs WebSocket operations, and connections refused for their token", async () => {
    // A WebSocket whose upgrade request carries an X-Request-Id, and that remembers the one echoed.
    let echoed: string | undefined;
    class WithRequestId extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { "x-request-id": "dashboard-socket-7" } });
        this.on("upgrade", (res) => (echoed = res.headers["x-request-id"] as string));
      }
    }
    const victor = createClient({
      url: `${base.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WithRequestId,
      connectionParams: { authorization: `Bearer ${tokens["victor@example.com"]}` },
      retryAttempts: 0,
    });
    const result = await new Promise<unknown>((resolve, reject) => victor.subscribe({ query: "query Ping { __typename }" }, { next: resolve, error: reject, complete: () => {} }));
    expect(result).toEqual({ data: { __typename: "Query" } });
    await victor.dispose();
    const operation = await eventually(async () => lines().find((l) => l.msg === "websocket operation" && l.operation === "Ping"), "the websocket operation line");
    expect(operation).toMatchObject({
      transport: "websocket",
      operationType: "query",
      actor: expect.stringMatching(/^user:/),
      requestId: "dashboard-socket-7",
      ms: expect.any(Number),
    });
    expect(echoed).toBe("dashboard-socket-7");

    const stranger = createClient({
      url: `${base.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: "Bearer rbs_wrong" },
      retryAttempts: 0,
    });
    await new Promise<void>((resolve) => stranger.subscribe({ query: "{ __typename }" }, { next: () => {}, error: () => resolve(), complete: () => resolve() }));
    await stranger.dispose();
    const refusedLine = await eventually(async () => lines().find((l) => l.msg === "websocket connection refused"), "the refused connection line");
    expect(refusedLine).toMatchObject({ status: 4401, reason: "invalid, expired or revoked token" });
  });
});
