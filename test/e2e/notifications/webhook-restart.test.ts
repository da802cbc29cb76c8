import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Database } from "../../../src/db/database.js";
import { eventually } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { mustRequest, revisionBack } from "../../helpers/operations.js";
import { freshDataDir, startTestServer, type TestServer } from "../../helpers/server.js";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.js";
import { createWebhook, deliveriesOf } from "../../helpers/webhooks.js";

/**
 * Deliveries are rows in the database from the moment their change commits, so a server that
 * stops with deliveries pending (receiver down) sends them after it starts again: every one, once.
 */
describe("webhook deliveries across a restart", () => {
  const dataDir = freshDataDir("rbs-webhook-restart-");
  let receiver: Receiver;
  let t: TestServer | null = null;
  const env = { WEBHOOK_RETRY_BASE_MS: "150", WEBHOOK_POLL_MS: "25", WEBHOOK_TIMEOUT_MS: "1500", WEBHOOK_MAX_ATTEMPTS: "20" };

  /** The stopped server's database, opened directly. */
  const withDatabase = async <T>(work: (db: Database) => Promise<T>): Promise<T> => {
    const db = await Database.open({ url: null, sqliteFile: path.join(dataDir, "rollback.sqlite") });
    try {
      return await work(db);
    } finally {
      await db.close();
    }
  };

  afterAll(async () => {
    await t?.server.stop();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("pending deliveries survive a stop and are each delivered once after the start, in order", async () => {
    receiver = await startReceiver({ respond: () => 503 });
    t = await startTestServer({ dataDir, env });
    const alice = tokenOf(t, "alice");
    const jane = tokenOf(t, "jane");
    const hook = await createWebhook(t, alice, { url: receiver.url, events: ["ROLLBACK_REQUEST_UPDATED", "GIT_PUSH", "DEPLOYMENT_RECORDED"], secret: "restart" });

    const target = await revisionBack(t, jane, "acme", "dev", 3);
    const rollback = await mustRequest(t, jane, { tenant: "acme", environment: "dev", targetSha: target });
    expect(rollback.state).toBe("COMPLETED");
    await t.ok(jane, `mutation($id:ID!){ addRollbackNote(id:$id, text:"after the restart"){ id } }`, { id: rollback.id });
    // APPROVED, EXECUTING, push, deployment, COMPLETED, note: six deliveries, the first being retried.
    const before = await eventually(async () => {
      const ds = await deliveriesOf(t!, alice, hook.id);
      return ds.length === 6 && ds[0]!.error ? ds : undefined;
    }, "six deliveries, the first failing");
    expect(before.every((d) => d.state === "PENDING")).toBe(true);
    expect(before.slice(1).every((d) => d.attempts === 0)).toBe(true);

    await t.server.stop(); // graceful: an attempt in flight finishes and is recorded
    t = null;
    const attemptsWhileUp = receiver.requests.length;
    const stopped = (await withDatabase((db) => db.dataSource.query(`SELECT id, state, leaseOwner FROM webhook_delivery WHERE webhookId = ? ORDER BY seq`, [hook.id]))) as {
      id: string;
      state: string;
      leaseOwner: string | null;
    }[];
    expect(stopped.map((r) => [r.id, r.state, r.leaseOwner])).toEqual(before.map((d) => [d.id, "PENDING", null]));

    receiver.respond = () => 200;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests.length).toBe(attemptsWhileUp); // nobody sends while the server is down

    t = await startTestServer({ dataDir, env });
    await receiver.waitFor((rs) => rs.filter((r) => r.status === 200).length >= 6, "the six deliveries after the restart");
    const after = await eventually(async () => {
      const ds = await deliveriesOf(t!, alice, hook.id);
      return ds.every((d) => d.state === "DELIVERED") ? ds : undefined;
    }, "every delivery DELIVERED");
    expect(after.map((d) => d.id)).toEqual(before.map((d) => d.id));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const accepted = receiver.requests.filter((r) => r.status === 200).map((r) => String(r.headers["x-rollback-delivery"]));
    expect(accepted).toEqual(before.map((d) => d.id)); // each once, in order
    expect(accepted.map((id) => receiver.requests.find((r) => r.headers["x-rollback-delivery"] === id)!.json.event)).toEqual([
      "ROLLBACK_REQUEST_UPDATED",
      "ROLLBACK_REQUEST_UPDATED",
      "GIT_PUSH",
      "DEPLOYMENT_RECORDED",
      "ROLLBACK_REQUEST_UPDATED",
      "ROLLBACK_REQUEST_UPDATED",
    ]);
  });

  it("a delivery held by a server that died mid-attempt is taken over once its lease runs out", async () => {
    const alice = tokenOf(t!, "alice");
    const r = await startReceiver();
    try {
      const hook = await createWebhook(t!, alice, { url: r.url, events: ["ROLLBACK_REQUEST_UPDATED"], secret: "lease" });
      // What a killed process leaves: the delivery claimed (attempt counted, lease held) and never settled.
      await t!.server.stop();
      const id = "whd_crashed000000000";
      await withDatabase(async (db) => {
        await db.dataSource.query(
          `INSERT INTO webhook_delivery (id, webhookId, projectId, seq, event, ping, payload, state, attempts, createdAt, nextAttemptAt, leaseOwner, leaseUntil)
           SELECT ?, id, projectId, 1, 'ROLLBACK_REQUEST_UPDATED', 0, '{"event":"ROLLBACK_REQUEST_UPDATED"}', 'PENDING', 1, datetime('now'), datetime('now'), 'dead-process', datetime('now', '+1 second') FROM webhook WHERE id = ?`,
          [id, hook.id],
        );
        await db.dataSource.query(`UPDATE webhook SET lastSeq = 1 WHERE id = ?`, [hook.id]);
      });
      t = await startTestServer({ dataDir, env });
      await r.waitFor((rs) => rs.some((q) => q.headers["x-rollback-delivery"] === id), "the orphaned delivery", 15_000);
      const [delivery] = await deliveriesOf(t, alice, hook.id);
      expect(delivery).toMatchObject({ id, state: "DELIVERED", attempts: 2 });
    } finally {
      await r.close();
    }
  });
});
