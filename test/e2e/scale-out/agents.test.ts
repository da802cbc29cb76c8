import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_SYNC, SYNC_STATUS_CHANGED, type SyncEvent } from "../../helpers/operations.js";
import { dropSchema, PG_URL, postgresAvailable, REDIS_URL, uniqueSchema } from "../../helpers/postgres.js";
import { AGENT_MAIN, gitEnv, run } from "../../helpers/processes.js";
import { agentTokenByCli, call, type Replica, startDemoReplicas } from "../../helpers/replica.js";

/**
 * The agent loop in scale-out mode: a rollback committed through replica B is served by replica A's
 * Git endpoint (A refreshes its local copy from the hosted remote before advertising refs), the
 * agent reports to A, and B's subscribers and queries see the result (PostgreSQL + Redis).
 */
const available = await postgresAvailable();

describe.skipIf(!available)("scale-out: the sync loop across replicas", () => {
  const schema = uniqueSchema("sync");
  const root = mkdtempSync(path.join(tmpdir(), "rbs-sync-scale-"));
  const replicas: Replica[] = [];
  const clients: Client[] = [];
  let a: Replica;
  let b: Replica;
  let tokens: Record<string, string>;
  let agent: string;

  const envFor = (name: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: PG_URL,
    PG_SCHEMA: schema,
    REDIS_URL,
    GIT_REMOTE: `file://${root}/remotes/{project}.git`,
    DATA_DIR: path.join(root, name),
    // Short, so the last test sees agents go silent; every replica's maintenance loop looks every second.
    AGENT_UNREACHABLE_AFTER: "2",
    ...extra,
  });

  beforeAll(async () => {
    ({ a, b, tokens } = await startDemoReplicas(envFor));
    replicas.push(a, b);
    agent = await agentTokenByCli(envFor("cli"));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(clients.map(async (c) => c.dispose()));
    await Promise.all(replicas.map((r) => r.stop()));
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("rollback through B, agent pulls and reports through A, B sees SUCCESS and SYNCED live", async () => {
    const victor = tokens["victor@example.com"]!;
    const jane = tokens["jane@example.com"]!;
    const client = createClient({ url: b.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${victor}` }, retryAttempts: 0 });
    clients.push(client);
    const events: SyncEvent[] = [];
    client.subscribe<{ syncStatusChanged: SyncEvent }>(
      { query: SYNC_STATUS_CHANGED, variables: { p: "demo" } },
      { next: (v) => v.data && events.push(v.data.syncStatusChanged), error: () => undefined, complete: () => undefined },
    );
    const waitFor = async (pred: (e: SyncEvent) => boolean, what: string, act?: () => Promise<unknown>) => {
      const deadline = Date.now() + 60_000;
      while (!events.some(pred)) {
        if (Date.now() > deadline) throw new Error(`no ${what}: ${JSON.stringify(events)}`);
        if (act) await act();
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // Live check: reports of another tenant-environment through A until B's subscriber sees one.
    const headOnA = async () =>
      (await call<{ tenantEnvironment: { currentRevision: string } }>(a, victor, `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"dev"){ currentRevision } }`))
        .data!.tenantEnvironment.currentRevision;
    const probeRevision = await headOnA();
    await waitFor(
      (e) => e.tenant === "globex" && e.environment === "dev",
      "probe event",
      () => call(a, agent, REPORT_SYNC, { i: { project: "demo", tenant: "globex", environment: "dev", revision: probeRevision, state: "SYNCED", health: "Healthy" } }),
    );

    const history = await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
      b,
      jane,
      `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",first:2){ nodes { revision } } }`,
    );
    const target = history.data!.deploymentHistory.nodes[1]!.revision;
    const requested = await call<{ requestRollback: { state: string; commitSha: string } }>(
      b,
      jane,
      `mutation($i:RollbackInput!){ requestRollback(input:$i){ state commitSha } }`,
      {
        i: { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: target, justification: "scale-out sync loop" },
      },
    );
    expect(requested.errors).toBeUndefined();
    expect(requested.data!.requestRollback.state).toBe("COMPLETED");
    const sha = requested.data!.requestRollback.commitSha;

    const ran = await run(
      process.execPath,
      [AGENT_MAIN, "--server", a.url, "--token", agent, "--project", "demo", "--tenant", "acme", "--environment", "staging", "--state-dir", path.join(root, "agent")],
      { env: gitEnv() },
    );
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(new RegExp(`^acme/staging\\s+SYNCED\\s+Healthy\\s+${sha.slice(0, 7)}`, "m"));

    await waitFor((e) => e.tenant === "acme" && e.environment === "staging" && e.revision === sha && e.state === "SYNCED", "acme/staging SYNCED on B");
    const seen = await call<{ tenantEnvironment: { sync: { state: string; revision: string }; history: { nodes: { revision: string; status: string }[] } } }>(
      b,
      victor,
      `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"staging"){ sync { state revision } history(first:1){ nodes { revision status } } } }`,
    );
    expect(seen.data!.tenantEnvironment.sync).toEqual({ state: "SYNCED", revision: sha });
    expect(seen.data!.tenantEnvironment.history.nodes[0]).toEqual({ revision: sha, status: "SUCCESS" });
  });

  it("an agent that goes silent is announced UNREACHABLE once, by one of the replicas", async () => {
    const victor = tokens["victor@example.com"]!;
    const client = createClient({ url: b.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${victor}` }, retryAttempts: 0 });
    clients.push(client);
    const events: SyncEvent[] = [];
    client.subscribe<{ syncStatusChanged: SyncEvent }>(
      { query: SYNC_STATUS_CHANGED, variables: { p: "demo", t: "globex", e: "production" } },
      { next: (v) => v.data && events.push(v.data.syncStatusChanged), error: () => undefined, complete: () => undefined },
    );
    const revision = (
      await call<{ tenantEnvironment: { currentRevision: string } }>(a, victor, `{ tenantEnvironment(project:"demo",tenant:"globex",environment:"production"){ currentRevision } }`)
    ).data!.tenantEnvironment.currentRevision;
    // Report (through A) until B's subscriber has seen a report: then it is live.
    const deadline = Date.now() + 60_000;
    while (!events.some((e) => e.agent === "CONNECTED")) {
      if (Date.now() > deadline) throw new Error(`no report seen: ${JSON.stringify(events)}`);
      await call(a, agent, REPORT_SYNC, { i: { project: "demo", tenant: "globex", environment: "production", revision, state: "SYNCED", health: "Healthy" } });
      await new Promise((r) => setTimeout(r, 250));
    }
    // Silence: both replicas' maintenance loops find the agent unreachable.
    while (!events.some((e) => e.agent === "UNREACHABLE")) {
      if (Date.now() > deadline) throw new Error(`no UNREACHABLE announcement: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Several more rounds of both loops: still that one announcement.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(events.filter((e) => e.agent === "UNREACHABLE")).toHaveLength(1);
  });
});
