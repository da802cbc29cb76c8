import { statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokensOf } from "../../helpers/demo.js";
import { useTestServer } from "../../helpers/server.js";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.js";
import { CREATE_WEBHOOK, createWebhook, deliveriesOf, FAST_WEBHOOKS, pingWebhook } from "../../helpers/webhooks.js";

/** Registering webhooks: ADMIN only, http(s) only, the secret encrypted at rest and never returned. */
describe("webhook management", () => {
  const t = useTestServer({ env: FAST_WEBHOOKS });
  let receiver: Receiver;
  let alice: string;
  let jane: string;
  let victor: string;
  let mallory: string;
  const SECRET = "It's a Secret to Everybody";

  beforeAll(async () => {
    receiver = await startReceiver();
    [alice, jane, victor, mallory] = tokensOf(t, "alice", "jane", "victor", "mallory");
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const create = (token: string, vars: Record<string, unknown>) =>
    t.gql<{ createWebhook: { id: string } }>(token, CREATE_WEBHOOK, { p: "demo", u: receiver.url, e: ["ROLLBACK_REQUEST_UPDATED"], f: "JSON", s: SECRET, ...vars });

  it("an ADMIN registers a webhook; it is listed on the project, and the secret is nowhere in the API", async () => {
    const hook = await createWebhook(t, alice, { url: receiver.url, events: ["ROLLBACK_REQUEST_UPDATED", "DEPLOYMENT_RECORDED"], secret: SECRET });
    expect(hook).toMatchObject({ url: receiver.url, events: ["ROLLBACK_REQUEST_UPDATED", "DEPLOYMENT_RECORDED"], format: "JSON", active: true });
    expect(hook.id).toMatch(/^whk_/);
    const listed = await t.ok<{ project: { webhooks: { id: string; deliveries: { totalCount: number } }[] } }>(
      alice,
      `{ project(slug:"demo"){ webhooks { id deliveries { totalCount } } } }`,
    );
    expect(listed.project.webhooks.map((w) => w.id)).toContain(hook.id);

    const type = await t.ok<{ __type: { fields: { name: string }[] } }>(alice, `{ __type(name:"Webhook"){ fields { name } } }`);
    expect(type.__type.fields.map((f) => f.name).filter((n) => /secret/i.test(n))).toEqual([]);
    const everything = JSON.stringify(await t.ok(alice, `{ node(id:"${hook.id}"){ ... on Webhook { id url events format active createdAt } } }`));
    expect(everything).not.toContain(SECRET);
  });

  it("the secret is encrypted at rest with the data directory's key (mode 0600), never stored in clear", async () => {
    const hook = await createWebhook(t, alice, { url: receiver.url, events: ["GIT_PUSH"], format: "GITHUB_PUSH", secret: SECRET });
    const [row] = (await t.app.db.dataSource.query(`SELECT * FROM webhook WHERE id = ?`, [hook.id])) as Record<string, unknown>[];
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(String(row!.secretCiphertext)).toMatch(/^v1:[0-9a-f]{8}:/);
    expect(statSync(path.join(t.dataDir, "webhook-secret.key")).mode & 0o777).toBe(0o600);
  });

  it.each([
    ["jane (DEPLOYER)", () => jane, "FORBIDDEN", /ADMIN or higher is required/],
    ["victor (VIEWER)", () => victor, "FORBIDDEN", /ADMIN or higher is required/],
    ["mallory (another organization)", () => mallory, "NOT_FOUND", /project "demo" not found/],
  ])("%s cannot register, list, ping or delete webhooks", async (_who, token, code, message) => {
    const created = await create(token(), {});
    expect(created.errors?.[0]?.extensions?.code).toBe(code);
    expect(created.errors?.[0]?.message).toMatch(message);

    const hook = await createWebhook(t, alice, { url: receiver.url, events: ["GIT_PUSH"], secret: SECRET });
    const listed = await t.gql(token(), `{ project(slug:"demo"){ webhooks { id } } }`);
    if (code === "NOT_FOUND") expect(listed.data).toEqual({ project: null });
    else expect(listed.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    for (const mutation of ["pingWebhook", "deleteWebhook"]) {
      const res = await t.gql(token(), `mutation($id:ID!){ ${mutation}(id:$id){ id } }`, { id: hook.id });
      expect(res.errors?.[0]?.extensions?.code).toBe(code === "NOT_FOUND" ? "NOT_FOUND" : "FORBIDDEN");
    }
    expect((await t.gql<{ node: unknown }>(token(), `{ node(id:"${hook.id}"){ id } }`)).data?.node).toBeNull();
    expect(receiver.requests.filter((r) => r.headers["x-rollback-delivery"] && r.json.event === "PING")).toEqual([]);
  });

  it.each([
    [{ u: "ftp://example.com/hook" }, /url must use http:\/\/ or https:\/\/, got "ftp"/],
    [{ u: "file:///etc/passwd" }, /url must use http:\/\/ or https:\/\/, got "file"/],
    [{ u: "javascript:alert(1)" }, /url must use http:\/\/ or https:\/\//],
    [{ u: "not a url" }, /url is not a valid URL/],
    [{ u: "" }, /url is required/],
    [{ u: "https://user:pass@example.com/hook" }, /url must not carry credentials/],
    [{ u: `https://example.com/${"a".repeat(2100)}` }, /url must be at most 2048 characters/],
    [{ e: [] }, /events must name at least one event/],
    [{ f: "GITHUB_PUSH", e: ["GIT_PUSH", "ROLLBACK_REQUEST_UPDATED"] }, /GITHUB_PUSH format carries GIT_PUSH events only/],
    [{ s: "" }, /secret is required/],
    [{ s: "x".repeat(300) }, /secret must be at most 256 characters/],
    [{ s: "line\nbreak" }, /secret must not contain control characters/],
  ])("refuses %j with BAD_USER_INPUT", async (vars, message) => {
    const res = await create(alice, vars);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it("pingWebhook sends a signed test delivery now and returns it; deleteWebhook stops everything", async () => {
    const hook = await createWebhook(t, alice, { url: receiver.url, events: ["SYNC_STATUS_CHANGED"], format: "SLACK", secret: SECRET });
    const ping = await pingWebhook(t, alice, hook.id);
    expect(ping).toMatchObject({ state: "DELIVERED", attempts: 1, responseStatus: 200, error: null, ping: true, event: "SYNC_STATUS_CHANGED" });
    const got = receiver.requests.find((r) => r.headers["x-rollback-delivery"] === ping.id)!;
    expect(got.json).toMatchObject({ text: expect.stringContaining("Webhook test") });
    expect((await deliveriesOf(t, alice, hook.id)).map((d) => d.id)).toEqual([ping.id]);

    const deleted = await t.ok<{ deleteWebhook: { id: string; active: boolean } }>(alice, `mutation($id:ID!){ deleteWebhook(id:$id){ id active } }`, { id: hook.id });
    expect(deleted.deleteWebhook).toEqual({ id: hook.id, active: false });
    const again = await t.gql(alice, `mutation($id:ID!){ pingWebhook(id:$id){ id } }`, { id: hook.id });
    expect(again.errors?.[0]).toMatchObject({ message: `webhook "${hook.id}" not found`, extensions: { code: "NOT_FOUND", status: 404 } });
    const audit = await t.ok<{ auditEvents: { nodes: { action: string; subjectId: string; details: Record<string, unknown> }[] } }>(
      alice,
      `{ auditEvents(project:"demo", first: 50){ nodes { action subjectId details } } }`,
    );
    const mine = audit.auditEvents.nodes.filter((e) => e.subjectId === hook.id).map((e) => e.action);
    expect(mine).toEqual(["webhook.deleted", "webhook.created"]);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it("a ping to a receiver that is down comes back FAILED with the reason, and is not retried", async () => {
    const down = await startReceiver();
    await down.close();
    const hook = await createWebhook(t, alice, { url: down.url, events: ["GIT_PUSH"], secret: SECRET });
    const ping = await pingWebhook(t, alice, hook.id);
    expect(ping).toMatchObject({ state: "FAILED", attempts: 1, responseStatus: null, nextAttemptAt: null });
    expect(ping.error).toMatch(/^cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED$/);
  });

  it("at most 20 webhooks per project", async () => {
    const existing = (await t.ok<{ project: { webhooks: unknown[] } }>(alice, `{ project(slug:"demo"){ webhooks { id } } }`)).project.webhooks.length;
    for (let i = existing; i < 20; i++) await createWebhook(t, alice, { url: `${receiver.url}?n=${i}`, events: ["GIT_PUSH"], secret: SECRET });
    const res = await create(alice, {});
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.errors?.[0]?.message).toBe('project "demo" already has 20 webhooks, the most it may have');
  });
});
