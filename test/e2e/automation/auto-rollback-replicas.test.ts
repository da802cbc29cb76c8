import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPORT_SYNC } from "../../helpers/operations.js";
import { AGENT_MAIN, gitEnv, run } from "../../helpers/processes.js";
import { dropSchema, PG_URL, postgresAvailable, REDIS_URL, uniqueSchema } from "../../helpers/postgres.js";
import { agentTokenByCli, call, type Replica, startDemoReplicas } from "../../helpers/replica.js";
import { AUTOMATIC_FIELDS, POLICY_FIELDS, type AutomaticRequest } from "../../helpers/automation.js";

/**
 * Automatic rollback with two replicas (PostgreSQL, Redis, a Git remote): both receive Degraded
 * reports of the same fresh deployment at once, and exactly one automatic rollback happens (the
 * claim is in the database).
 */
const available = await postgresAvailable();

describe.skipIf(!available)("automatic rollback across replicas", () => {
  const schema = uniqueSchema("auto");
  const root = mkdtempSync(path.join(tmpdir(), "rbs-auto-scale-"));
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;
  let tokens: Record<string, string>;
  let agent: string;

  const envFor = (name: string) => ({
    DATABASE_URL: PG_URL,
    PG_SCHEMA: schema,
    REDIS_URL,
    GIT_REMOTE: `file://${root}/remotes/{project}.git`,
    DATA_DIR: path.join(root, name),
    SEED: "demo",
  });
  const remoteGit = (...args: string[]) => execFileSync("git", ["-C", path.join(root, "remotes", "demo.git"), ...args], { encoding: "utf8" });
  const ok = async <T>(replica: Replica, token: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await call<T>(replica, token, query, variables);
    if (res.errors?.length) throw new Error(`${replica.name}: ${JSON.stringify(res.errors)}`);
    return res.data!;
  };

  beforeAll(async () => {
    ({ a, b, tokens } = await startDemoReplicas(envFor));
    replicas.push(a, b);
    agent = await agentTokenByCli(envFor("cli"));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("two simulators reporting one service Degraded to two replicas right after a deploy trigger exactly one automatic rollback", async () => {
    const alice = tokens["alice@example.com"]!;
    const jane = tokens["jane@example.com"]!;
    await ok(a, alice, `mutation { setAutoRollbackPolicy(project: "demo", environment: "staging", enabled: true, windowMinutes: 30, mode: SERVICE) { ${POLICY_FIELDS} } }`);
    // With an approval required, the automatic request waits, so the head stays bad while every report comes in.
    await ok(b, alice, `mutation { setApprovalPolicy(project: "demo", environment: "staging", requiredApprovals: 1, allowSelfApproval: false) { requiredApprovals } }`);
    const te = { project: "demo", tenant: "acme", environment: "staging" };
    const { tenantEnvironment } = await ok<{ tenantEnvironment: { currentRevision: string } }>(
      b,
      jane,
      `{ tenantEnvironment(project: "demo", tenant: "acme", environment: "staging") { currentRevision } }`,
    );
    const good = tenantEnvironment.currentRevision;
    await ok(a, agent, REPORT_SYNC, { i: { ...te, revision: good, state: "SYNCED", health: "Healthy" } });
    const { deploy } = await ok<{ deploy: { id: string; revision: string } }>(b, jane, `mutation($i: DeployInput!) { deploy(input: $i) { id revision } }`, {
      i: { ...te, service: "billing", set: { "image.tag": "v4.0.0-bad" } },
    });

    // Both simulators pull through their own replica and report Degraded at the same time, and so do twelve direct
    // reports (without the claim in the database this makes several requests).
    const simulate = (replica: Replica) =>
      run(
        process.execPath,
        [
          AGENT_MAIN,
          "--server",
          replica.url,
          "--token",
          agent,
          "--project",
          "demo",
          "--tenant",
          "acme",
          "--environment",
          "staging",
          "--state-dir",
          path.join(root, `agent-${replica.name}`),
          "--degraded-service",
          "billing",
          "--degraded-tag",
          "v4.0.0-bad",
        ],
        { env: gitEnv({ TZ: "UTC" }), timeoutMs: 60_000 },
      );
    const degraded = { i: { ...te, revision: deploy.revision, state: "SYNCED", health: "Degraded" } };
    const [fromA, fromB] = await Promise.all([simulate(a), simulate(b), ...Array.from({ length: 12 }, (_, i) => call(i % 2 ? a : b, agent, REPORT_SYNC, degraded))]);
    for (const ran of [fromA!, fromB!]) {
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^acme\/staging\s+SYNCED\s+Degraded\s/m);
    }

    const { rollbackRequests } = await ok<{ rollbackRequests: { nodes: AutomaticRequest[] } }>(
      a,
      jane,
      `{ rollbackRequests(project: "demo", tenant: "acme", environment: "staging", first: 50) { nodes { ${AUTOMATIC_FIELDS} } } }`,
    );
    const automatic = rollbackRequests.nodes.filter((r) => r.trigger === "AUTOMATIC");
    expect(automatic).toHaveLength(1);
    expect(automatic[0]).toMatchObject({ state: "PENDING", service: "billing", targetSha: good, triggeredBy: { id: deploy.id }, requestedBy: { email: "auto-rollback" } });
    const approved = await ok<{ reviewRollbackRequest: AutomaticRequest }>(
      b,
      tokens["bob@example.com"]!,
      `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { ${AUTOMATIC_FIELDS} } }`,
      {
        id: automatic[0]!.id,
      },
    );
    expect(approved.reviewRollbackRequest.state).toBe("COMPLETED");
    automatic[0] = approved.reviewRollbackRequest;
    expect(remoteGit("log", "main", "--format=%H", "--grep=^Trigger: automatic$").split("\n").filter(Boolean)).toEqual([automatic[0]!.commitSha]);
    const { auditEvents } = await ok<{ auditEvents: { nodes: { action: string; subjectId: string }[] } }>(
      a,
      alice,
      `{ auditEvents(project: "demo", first: 100) { nodes { action subjectId } } }`,
    );
    expect(auditEvents.nodes.filter((e) => e.action === "autorollback.triggered" && e.subjectId === deploy.id)).toHaveLength(1);
    // Seen the same from the other replica, holds included.
    const onB = await ok<{ rollbackRequest: AutomaticRequest }>(b, jane, `query($id: ID!) { rollbackRequest(id: $id) { ${AUTOMATIC_FIELDS} } }`, { id: automatic[0]!.id });
    expect(onB.rollbackRequest.holds.map((h) => [h.service, h.field, h.heldValue])).toEqual([["billing", "image.tag", "v4.0.0-bad"]]);
  }, 180_000);
});
