import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, PG_URL, postgresAvailable, REDIS_URL, uniqueSchema } from "../../helpers/postgres.js";
import { call, startDemoReplicas, type Replica } from "../../helpers/replica.js";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.js";
import { REQUEST_ROLLBACK } from "../../helpers/operations.js";
import { CREATE_WEBHOOK, FAST_WEBHOOKS } from "../../helpers/webhooks.js";

const available = await postgresAvailable();

/**
 * Two replicas on one PostgreSQL: both run a dispatcher over the same outbox. Events made on
 * either replica reach the receiver once each, in the order they happened, never two at a time,
 * through failures and retries.
 */
describe.skipIf(!available)("webhooks with two replicas (PostgreSQL, Redis)", () => {
  const schema = uniqueSchema("hooks");
  const root = mkdtempSync(path.join(tmpdir(), "rbs-hooks-"));
  const key = randomBytes(32).toString("hex");
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;
  let tokens: Record<string, string>;
  let receiver: Receiver;

  const envFor = (name: string) => ({
    DATABASE_URL: PG_URL,
    PG_SCHEMA: schema,
    REDIS_URL,
    GIT_REMOTE: `file://${path.join(root, "remotes")}/{project}.git`,
    DATA_DIR: path.join(root, name),
    SEED: "demo",
    WEBHOOK_SECRET_KEY: key,
    PUBLIC_URL: "https://rollback.example.com",
    ...FAST_WEBHOOKS,
  });

  beforeAll(async () => {
    receiver = await startReceiver({ respond: (n) => (n < 3 ? 502 : 200), delayMs: 40 });
    ({ a, b, tokens } = await startDemoReplicas(envFor));
    replicas.push(a, b);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await receiver?.close();
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("events from both replicas arrive once each, in order, one at a time, after failed attempts", async () => {
    const alice = tokens["alice@example.com"]!;
    const jane = tokens["jane@example.com"]!;
    const created = await call<{ createWebhook: { id: string } }>(a, alice, CREATE_WEBHOOK, {
      p: "demo",
      u: receiver.url,
      e: ["ROLLBACK_REQUEST_UPDATED"],
      f: "JSON",
      s: "replica secret",
    });
    expect(created.errors).toBeUndefined();

    const history = await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
      b,
      jane,
      `{ deploymentHistory(project:"demo",tenant:"globex",environment:"production",first:3){ nodes{ revision } } }`,
    );
    const request = await call<{ requestRollback: { id: string; state: string } }>(b, jane, REQUEST_ROLLBACK, {
      input: {
        project: "demo",
        tenant: "globex",
        environment: "production",
        targetSha: history.data!.deploymentHistory.nodes[2]!.revision,
        mode: "FULL",
        justification: "replicas",
      },
    });
    expect(request.data?.requestRollback.state).toBe("PENDING");
    const id = request.data!.requestRollback.id;
    for (let i = 1; i <= 10; i++) {
      const res = await call(i % 2 === 0 ? a : b, jane, `mutation($id:ID!,$x:String!){ addRollbackNote(id:$id, text:$x){ id } }`, { id, x: `note ${i}` });
      expect(res.errors).toBeUndefined();
    }

    const all = await receiver.waitFor((rs) => rs.filter((r) => r.status === 200).length >= 11, "eleven deliveries", 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const accepted = receiver.requests.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(11);
    expect(new Set(accepted.map((r) => r.headers["x-rollback-delivery"])).size).toBe(11);
    expect(accepted.map((r) => (r.json.data as { notes: unknown[] }).notes.length)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(all.filter((r) => r.status !== 200)).toHaveLength(3);
    expect(receiver.maxConcurrent).toBe(1);

    const listed = await call<{ project: { webhooks: { deliveries: { nodes: { state: string; attempts: number }[] } }[] } }>(
      b,
      alice,
      `{ project(slug:"demo"){ webhooks { deliveries(first:50){ nodes { state attempts } } } } }`,
    );
    const deliveries = listed.data!.project.webhooks[0]!.deliveries.nodes;
    expect(deliveries.map((d) => d.state)).toEqual(Array(11).fill("DELIVERED"));
    expect(deliveries.reduce((n, d) => n + d.attempts, 0)).toBe(14);
  });

  it("a GIT_PUSH delivery names PUBLIC_URL's repository, whichever replica committed", async () => {
    const alice = tokens["alice@example.com"]!;
    const jane = tokens["jane@example.com"]!;
    const push = await startReceiver();
    try {
      await call(b, alice, CREATE_WEBHOOK, { p: "demo", u: push.url, e: ["GIT_PUSH"], f: "GITHUB_PUSH", s: "push secret" });
      const history = await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
        a,
        jane,
        `{ deploymentHistory(project:"demo",tenant:"acme",environment:"dev",first:2){ nodes{ revision } } }`,
      );
      const done = await call<{ requestRollback: { state: string; commitSha: string } }>(a, jane, REQUEST_ROLLBACK, {
        input: { project: "demo", tenant: "acme", environment: "dev", targetSha: history.data!.deploymentHistory.nodes[1]!.revision, mode: "FULL", justification: "push from a" },
      });
      expect(done.data?.requestRollback.state).toBe("COMPLETED");
      const [got] = await push.waitFor((rs) => rs.length >= 1, "the push");
      expect(got!.json).toMatchObject({
        after: done.data!.requestRollback.commitSha,
        repository: { clone_url: "https://rollback.example.com/git/demo.git", html_url: "https://rollback.example.com/git/demo.git" },
      });
    } finally {
      await push.close();
    }
  });
});
