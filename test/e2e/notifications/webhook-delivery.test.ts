import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { tokensOf } from "../../helpers/demo.js";
import { mustRequest, revisionBack } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.js";
import { createWebhook, deliveriesOf, FAST_WEBHOOKS } from "../../helpers/webhooks.js";

/**
 * Durable delivery against receivers that fail, recover, hang or never come back: retried with
 * backoff, in order per webhook, one at a time, the reason of each failure shown, and nothing
 * else (other webhooks, the rollbacks themselves) held up.
 */
describe("webhook delivery: retries, order, timeouts", () => {
  const t = useTestServer({ env: FAST_WEBHOOKS });
  let alice: string;
  let jane: string;
  let bob: string;
  const receivers: Receiver[] = [];
  const SECRET = "retry-secret";

  beforeAll(() => {
    [alice, jane, bob] = tokensOf(t, "alice", "jane", "bob");
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
  });

  const receiver = async (options: Parameters<typeof startReceiver>[0] = {}) => {
    const r = await startReceiver(options);
    receivers.push(r);
    return r;
  };
  /** A production request of globex waiting for approval: each note on it is one ROLLBACK_REQUEST_UPDATED. */
  const pendingRequest = async () => {
    const target = await revisionBack(t, jane, "globex", "production", 2);
    const created = await mustRequest(t, jane, { tenant: "globex", environment: "production", targetSha: target });
    expect(created.state).toBe("PENDING");
    return created.id;
  };
  const note = (id: string, text: string) => t.ok(jane, `mutation($id:ID!,$x:String!){ addRollbackNote(id:$id, text:$x){ id } }`, { id, x: text });
  const notesIn = (body: Record<string, unknown>) => ((body.data as { notes: { text: string }[] }).notes ?? []).map((n) => n.text);

  it("a receiver that fails and recovers gets the delivery again, same body and signature, until it takes it", async () => {
    const flaky = await receiver({ respond: (n) => (n < 2 ? 503 : 200) });
    const hook = await createWebhook(t, alice, { url: flaky.url, events: ["ROLLBACK_REQUEST_UPDATED"], secret: SECRET });
    flaky.delayMs = 0;
    const id = await pendingRequest();
    await note(id, "first");

    // While it fails: PENDING, with the attempt count, the status, the reason and when the next attempt is due.
    const failing = await eventually(async () => (await deliveriesOf(t, alice, hook.id)).find((d) => d.state === "PENDING" && d.error !== null), "a failed attempt recorded");
    expect(failing).toMatchObject({
      event: "ROLLBACK_REQUEST_UPDATED",
      state: "PENDING",
      responseStatus: 503,
      error: "receiver answered HTTP 503: failing on purpose (503)",
      deliveredAt: null,
    });
    expect(Date.parse(failing.nextAttemptAt!)).toBeGreaterThan(Date.parse(failing.createdAt));

    await flaky.waitFor((rs) => rs.some((r) => r.status === 200), "a successful attempt");
    const delivered = await eventually(async () => (await deliveriesOf(t, alice, hook.id)).find((d) => d.state === "DELIVERED"), "DELIVERED");
    expect(delivered).toMatchObject({ attempts: 3, responseStatus: 200, error: null, nextAttemptAt: null });
    expect(delivered.deliveredAt).not.toBeNull();
    const attempts = flaky.requests.filter((r) => r.headers["x-rollback-delivery"] === delivered.id);
    expect(attempts.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    for (const a of attempts) expect(await verify(SECRET, a.body, String(a.headers["x-hub-signature-256"]))).toBe(true);
  });

  it("later events wait for the earlier one: in order, one at a time, each exactly once", async () => {
    const slowStart = await receiver({ respond: (n) => (n < 2 ? 500 : 200), delayMs: 30 });
    const hook = await createWebhook(t, alice, { url: slowStart.url, events: ["ROLLBACK_REQUEST_UPDATED"], secret: SECRET });
    const id = await pendingRequest();
    for (const text of ["one", "two", "three", "four"]) await note(id, text);
    const all = await slowStart.waitFor((rs) => rs.filter((r) => r.status === 200).length >= 5, "all five deliveries");
    const accepted = all.filter((r) => r.status === 200);
    // The PENDING request itself, then each note: the order they happened in.
    expect(accepted.map((r) => notesIn(r.json).length)).toEqual([0, 1, 2, 3, 4]);
    expect(accepted.map((r) => r.headers["x-rollback-delivery"])).toEqual((await deliveriesOf(t, alice, hook.id)).map((d) => d.id));
    // Before the first was taken, nothing after it was tried.
    expect(all.slice(0, 3).map((r) => r.headers["x-rollback-delivery"])).toEqual(Array(3).fill(accepted[0]!.headers["x-rollback-delivery"]));
    expect(slowStart.maxConcurrent).toBe(1);
  });

  it("a receiver that never recovers: FAILED after the last attempt, then the queue moves on", async () => {
    const broken = await receiver({ respond: () => 500 });
    const hook = await createWebhook(t, alice, { url: broken.url, events: ["ROLLBACK_REQUEST_UPDATED"], secret: SECRET });
    const id = await pendingRequest();
    await note(id, "still broken");
    const settled = await eventually(async () => {
      const ds = await deliveriesOf(t, alice, hook.id);
      return ds.length === 2 && ds.every((d) => d.state === "FAILED") ? ds : undefined;
    }, "both deliveries FAILED");
    for (const d of settled) expect(d).toMatchObject({ attempts: 4, responseStatus: 500, nextAttemptAt: null, deliveredAt: null, error: expect.stringContaining("HTTP 500") });
    expect(broken.requests).toHaveLength(8);
    // Operators see the queue in Prometheus.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^rollback_server_webhook_deliveries\{state="FAILED"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^rollback_server_webhook_oldest_pending_seconds \d/m);
  });

  it("a receiver that hangs times out, and holds back neither other webhooks nor rollbacks", async () => {
    const hanging = await receiver({ delayMs: 4_000 });
    const healthy = await receiver();
    const stuck = await createWebhook(t, alice, { url: hanging.url, events: ["ROLLBACK_REQUEST_UPDATED", "GIT_PUSH"], secret: SECRET });
    await createWebhook(t, alice, { url: healthy.url, events: ["ROLLBACK_REQUEST_UPDATED", "GIT_PUSH"], secret: SECRET });

    const target = await revisionBack(t, jane, "globex", "staging", 1);
    const rollback = await mustRequest(t, jane, { tenant: "globex", environment: "staging", targetSha: target });
    expect(rollback.state).toBe("COMPLETED");
    // APPROVED, EXECUTING, COMPLETED and the push reach the healthy receiver while the other one hangs.
    await healthy.waitFor((rs) => rs.length >= 4, "the healthy receiver's deliveries", 10_000);
    expect(hanging.requests.filter((r) => r.status)).toHaveLength(0);

    const timedOut = await eventually(async () => (await deliveriesOf(t, alice, stuck.id)).find((d) => d.attempts >= 1 && d.error !== null), "a timed-out attempt");
    expect(timedOut).toMatchObject({ state: "PENDING", responseStatus: null, error: "no response within 1500 ms" });
  });

  it("a change that fails writes no delivery; one that commits always has its delivery", async () => {
    const r = await receiver();
    const hook = await createWebhook(t, alice, { url: r.url, events: ["ROLLBACK_REQUEST_UPDATED"], secret: SECRET });
    const id = await pendingRequest();
    const own = await t.gql(jane, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ id } }`, { id });
    expect(own.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const rejected = await t.ok<{ reviewRollbackRequest: { state: string } }>(bob, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:REJECT, comment:"no"){ state } }`, {
      id,
    });
    expect(rejected.reviewRollbackRequest.state).toBe("REJECTED");
    const twice = await t.gql(bob, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ id } }`, { id });
    expect(twice.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    await r.waitFor((rs) => rs.length >= 2, "PENDING and REJECTED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.requests.map((q) => (q.json.data as { state: string }).state)).toEqual(["PENDING", "REJECTED"]);
    expect((await deliveriesOf(t, alice, hook.id)).map((d) => d.state)).toEqual(["DELIVERED", "DELIVERED"]);
  });
});
