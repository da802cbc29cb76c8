import { verify } from "@octokit/webhooks-methods";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { tokenOf, tokensOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { mustRequest, revisionBack } from "../../helpers/operations.js";
import { git } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";
import { collect } from "../../helpers/subscriptions.js";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.js";
import { createWebhook, FAST_WEBHOOKS, pingWebhook, type WebhookView } from "../../helpers/webhooks.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const webhookSchemas = createRequire(import.meta.url)("@octokit/webhooks-schemas") as object;

/** GitHub's published webhook schemas, with their formats (uri, date-time, uri-template) checked (compiled once: it takes seconds). */
let ajv: Ajv | null = null;
function githubValidator(definition: "push$event" | "ping$event") {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(webhookSchemas, "github");
  }
  return ajv.getSchema(`github#/definitions/${definition}`)!;
}

const USER = "id email name";
const REQUEST_FIELDS = `id state mode project tenant environment targetSha baseSha service selectedFields affectedServices justification
  requestedBy { ${USER} } createdAt updatedAt approvals requiredApprovals reviews { reviewer { ${USER} } decision comment createdAt }
  notes { author { ${USER} } text createdAt } breakGlass commitSha commitMessage error errorCode executionAttempts`;
const DEPLOYMENT_FIELDS = `id revision shortRevision deployedAt author { ${USER} } summary source status changes { service file path kind before after selector }`;
const SYNC_FIELDS = "tenant environment revision state agent health lastReportAt drift { kind name field desired actual }";

/**
 * Each format with real events: a production rollback that needs an approval (PENDING,
 * APPROVED, EXECUTING, COMPLETED, a note), its commit pushed, its deployment recorded, the
 * agent's report. JSON carries what the subscriptions show; SLACK a message; GITHUB_PUSH a push
 * event GitHub's published schema accepts. Every body is signed, checked with @octokit's verify.
 */
describe("webhook formats and signatures", () => {
  const t = useTestServer({ env: FAST_WEBHOOKS });
  let receiver: Receiver;
  let alice: string;
  const hooks: Record<"json" | "slack" | "github", WebhookView & { secret: string }> = {} as never;
  const subscribed: { requests: unknown[]; deployments: unknown[]; syncs: unknown[] } = { requests: [], deployments: [], syncs: [] };
  let requestId: string;
  let commitSha: string;
  let headBefore: string;
  /** git against the demo repository, without blocking the event loop the server and the receiver share. */
  const demoGit = async (...args: string[]) => (await git(["-C", t.repoPath("demo"), ...args])).stdout;

  beforeAll(async () => {
    receiver = await startReceiver();
    const [jane, bob, carol, victor] = tokensOf(t, "jane", "bob", "carol", "victor");
    alice = tokenOf(t, "alice");
    const all = ["ROLLBACK_REQUEST_UPDATED", "DEPLOYMENT_RECORDED", "SYNC_STATUS_CHANGED", "GIT_PUSH"];
    for (const [name, format, events] of [
      ["json", "JSON", all],
      ["slack", "SLACK", all],
      ["github", "GITHUB_PUSH", ["GIT_PUSH"]],
    ] as const) {
      const secret = `secret-of-the-${name}-hook`;
      // The receiver tells the hooks apart by a query parameter of their URL.
      hooks[name] = { ...(await createWebhook(t, alice, { url: `${receiver.url}?hook=${name}`, events: [...events], format, secret })), secret };
    }
    receiver.respond = () => 200;

    const ws = t.ws(victor);
    const requests = collect(ws, `subscription { rollbackRequestUpdated(project:"demo", tenant:"acme", environment:"production") { ${REQUEST_FIELDS} } }`, {}, 5);
    const deployments = collect(ws, `subscription { deploymentRecorded(project:"demo", tenant:"acme", environment:"production") { ${DEPLOYMENT_FIELDS} } }`, {}, 2);
    const syncs = collect(ws, `subscription { syncStatusChanged(project:"demo", tenant:"acme", environment:"production") { ${SYNC_FIELDS} } }`, {}, 1);
    await Promise.all([requests.ready, deployments.ready, syncs.ready]);

    headBefore = (await demoGit("rev-parse", "refs/heads/main")).trim();
    const target = await revisionBack(t, jane, "acme", "production", 1);
    const created = await mustRequest(t, jane, {
      tenant: "acme",
      environment: "production",
      targetSha: target,
      mode: "SERVICE",
      service: "api-gateway",
      justification: "Bad image tag v2.1.0 causing 500 errors",
    });
    expect(created.state).toBe("PENDING");
    requestId = created.id;
    const approved = await t.ok<{ reviewRollbackRequest: { state: string; commitSha: string } }>(
      bob,
      `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE, comment:"LGTM"){ state commitSha } }`,
      { id: requestId },
    );
    expect(approved.reviewRollbackRequest.state).toBe("COMPLETED");
    commitSha = approved.reviewRollbackRequest.commitSha;
    await t.ok(carol, `mutation($id:ID!){ addRollbackNote(id:$id, text:"Root cause: <bad> tag & missing canary"){ id } }`, { id: requestId });
    await t.ok(await agentToken(t), `mutation($i:SyncReportInput!){ reportSyncStatus(input:$i){ state } }`, {
      i: { project: "demo", tenant: "acme", environment: "production", revision: commitSha, state: "SYNCED", health: "Healthy", drift: [] },
    });

    subscribed.requests = (await requests.done).map((e) => (e as { rollbackRequestUpdated: unknown }).rollbackRequestUpdated);
    subscribed.deployments = (await deployments.done).map((e) => (e as { deploymentRecorded: unknown }).deploymentRecorded);
    subscribed.syncs = (await syncs.done).map((e) => (e as { syncStatusChanged: unknown }).syncStatusChanged);
    // JSON: 5 request updates, 2 deployment events (PENDING, SUCCESS), 1 sync, 1 push; SLACK the same; GitHub: 1 push.
    await receiver.waitFor((rs) => rs.filter((r) => r.status === 200).length >= 9 + 9 + 1, "every delivery");
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const byHook = (name: keyof typeof hooks) => receiver.requests.filter((r) => r.headers["x-rollback-delivery"] && r.path === `/hook?hook=${name}`);

  it("every delivery is signed like GitHub's: X-Hub-Signature-256 verifies with the webhook's secret (and no other)", async () => {
    expect(receiver.requests.length).toBeGreaterThanOrEqual(19);
    for (const name of ["json", "slack", "github"] as const) {
      for (const r of byHook(name)) {
        const signature = String(r.headers["x-hub-signature-256"]);
        expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(await verify(hooks[name].secret, r.body, signature)).toBe(true);
        expect(await verify("another secret", r.body, signature)).toBe(false);
        expect(r.headers["content-type"]).toBe("application/json");
      }
    }
  });

  it("JSON: { event, deliveryId, occurredAt, project, data }, data as the subscriptions show it, in the order things happened", () => {
    const json = byHook("json").map((r) => ({
      headers: r.headers,
      body: r.json as { event: string; deliveryId: string; occurredAt: string; project: string; data: Record<string, unknown> },
    }));
    for (const { headers, body } of json) {
      expect(Object.keys(body).sort()).toEqual(["data", "deliveryId", "event", "occurredAt", "project"]);
      expect(body.project).toBe("demo");
      expect(body.deliveryId).toBe(headers["x-rollback-delivery"]);
      expect(headers["x-rollback-event"]).toBe(body.event);
      expect(new Date(body.occurredAt).toISOString()).toBe(body.occurredAt);
    }
    const requests = json.filter((j) => j.body.event === "ROLLBACK_REQUEST_UPDATED").map((j) => j.body.data);
    expect(requests.map((r) => r.state)).toEqual(["PENDING", "APPROVED", "EXECUTING", "COMPLETED", "COMPLETED"]);
    expect(requests).toEqual(subscribed.requests);
    expect(requests[4]!.notes).toEqual([expect.objectContaining({ text: "Root cause: <bad> tag & missing canary" })]);
    expect(requests[1]!.reviews).toEqual([expect.objectContaining({ decision: "APPROVE", comment: "LGTM", reviewer: expect.objectContaining({ email: "bob@example.com" }) })]);

    const deployments = json.filter((j) => j.body.event === "DEPLOYMENT_RECORDED").map((j) => j.body.data);
    expect(deployments.map((d) => [d.revision, d.source, d.status])).toEqual([
      [commitSha, "ROLLBACK", "PENDING"],
      [commitSha, "ROLLBACK", "SUCCESS"],
    ]);
    deployments.forEach((d, i) => expect(d).toMatchObject(subscribed.deployments[i] as object));
    expect(deployments[0]).toMatchObject({ tenant: "acme", environment: "production", rollbackRequestId: requestId });

    const syncs = json.filter((j) => j.body.event === "SYNC_STATUS_CHANGED").map((j) => j.body.data);
    expect(syncs).toEqual(subscribed.syncs);
    expect(syncs[0]).toMatchObject({ revision: commitSha, state: "SYNCED", agent: "CONNECTED", health: "Healthy" });

    const pushes = json.filter((j) => j.body.event === "GIT_PUSH").map((j) => j.body.data);
    expect(pushes).toEqual([
      {
        ref: "refs/heads/main",
        before: headBefore,
        after: commitSha,
        repository: { name: "demo", cloneUrl: `${t.url}/git/demo.git` },
        commits: [
          {
            id: commitSha,
            message: expect.stringContaining(`Rollback Request ID: ${requestId}`),
            author: { name: "Jane Doe", email: "jane@example.com" },
            timestamp: expect.any(String),
            added: [],
            removed: [],
            modified: ["tenants/acme/production/rendered/api-gateway.yaml", "tenants/acme/production/services/api-gateway/values.yaml"],
          },
        ],
      },
    ]);
    // The webhook's order is the order of events: the commit is pushed, recorded, then the request COMPLETED.
    expect(json.map((j) => j.body.event)).toEqual([
      "ROLLBACK_REQUEST_UPDATED",
      "ROLLBACK_REQUEST_UPDATED",
      "ROLLBACK_REQUEST_UPDATED",
      "GIT_PUSH",
      "DEPLOYMENT_RECORDED",
      "ROLLBACK_REQUEST_UPDATED",
      "ROLLBACK_REQUEST_UPDATED",
      "DEPLOYMENT_RECORDED",
      "SYNC_STATUS_CHANGED",
    ]);
  });

  it("SLACK: an incoming-webhook message with text and blocks saying who, what, where and the state; user text escaped", () => {
    const slack = byHook("slack").map((r) => r.json as { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: unknown[] }[] });
    expect(slack).toHaveLength(9);
    for (const m of slack) {
      expect(typeof m.text).toBe("string");
      expect(m.blocks.length).toBeGreaterThanOrEqual(3);
      for (const b of m.blocks) expect(["section", "context", "actions"]).toContain(b.type);
    }
    const pending = slack[0]!;
    expect(pending.text).toBe(`Rollback ${requestId} of demo acme/production is PENDING`);
    const fields = pending.blocks[1]!.fields!.map((f) => f.text);
    expect(fields).toEqual([
      "*Who*\njane@example.com",
      expect.stringMatching(/^\*What\*\nSERVICE rollback \(service api-gateway\) to [0-9a-f]{7}$/),
      "*Where*\ndemo acme/production",
      "*State*\nPENDING (approvals 0/1)",
    ]);
    // A button to the request's page in the console.
    expect(pending.blocks.find((b) => b.type === "actions")).toEqual({
      type: "actions",
      elements: [{ type: "button", text: { type: "plain_text", text: "Open the request" }, url: `${t.url}/projects/demo/requests/${requestId}` }],
    });
    const note = slack.find((m) => JSON.stringify(m).includes("Root cause"))!;
    expect(JSON.stringify(note)).toContain("Root cause: &lt;bad&gt; tag &amp; missing canary");
    expect(slack.find((m) => m.text.startsWith("Pushed "))?.text).toMatch(
      new RegExp(`^Pushed ${commitSha.slice(0, 7)} to demo main: Rollback: tenant/acme env/production → revision [0-9a-f]{7}$`),
    );
    expect(slack.find((m) => m.text.startsWith("Sync "))?.text).toBe("Sync of demo acme/production: SYNCED, Healthy (agent CONNECTED)");
  });

  it("GITHUB_PUSH: a GitHub push event that GitHub's published schema accepts, naming the server's own repository URL", async () => {
    const [push, ...others] = byHook("github");
    expect(others).toEqual([]);
    expect(push!.headers).toMatchObject({
      "x-github-event": "push",
      "x-github-delivery": push!.headers["x-rollback-delivery"],
      "x-hub-signature": expect.stringMatching(/^sha1=[0-9a-f]{40}$/),
    });
    const validate = githubValidator("push$event");
    expect(validate(push!.json), JSON.stringify(validate.errors)).toBe(true);
    // The fields read below (the schema has checked the whole body).
    const body = push!.json as {
      repository: { clone_url: string; created_at: unknown; pushed_at: unknown };
      head_commit: { modified: string[]; message: string };
      commits: unknown[];
    };
    expect(body).toMatchObject({
      ref: "refs/heads/main",
      before: headBefore,
      after: commitSha,
      created: false,
      deleted: false,
      forced: false,
      pusher: { name: "Jane Doe", email: "jane@example.com" },
    });
    expect(body.repository).toMatchObject({
      name: "demo",
      full_name: "acme-corp/demo",
      clone_url: `${t.url}/git/demo.git`,
      html_url: `${t.url}/git/demo.git`,
      default_branch: "main",
    });
    expect(typeof body.repository.created_at).toBe("number");
    expect(typeof body.repository.pushed_at).toBe("number");
    expect(body.head_commit).toMatchObject({ id: commitSha, tree_id: (await demoGit("rev-parse", `${commitSha}^{tree}`)).trim(), author: { email: "jane@example.com" } });
    expect(body.commits).toEqual([body.head_commit]);
    expect(body.head_commit.modified).toEqual(["tenants/acme/production/rendered/api-gateway.yaml", "tenants/acme/production/services/api-gateway/values.yaml"]);
    expect(body.head_commit.message).toBe((await demoGit("log", "-1", "--format=%B", commitSha)).replace(/\n$/, ""));
    // The repository URL in the payload is the one Git clients (Argo CD) fetch from.
    const refs = await fetch(`${body.repository.clone_url}/info/refs?service=git-upload-pack`, { headers: { authorization: `Bearer ${alice}` } });
    expect(refs.status).toBe(200);
    expect(await refs.text()).toContain(commitSha);
  });

  it("GITHUB_PUSH ping: GitHub's ping event, valid by the published schema", async () => {
    const ping = await pingWebhook(t, alice, hooks.github.id);
    expect(ping.state).toBe("DELIVERED");
    const got = await eventually(async () => byHook("github").find((r) => r.headers["x-rollback-delivery"] === ping.id), "the ping");
    expect(got.headers["x-github-event"]).toBe("ping");
    expect(await verify(hooks.github.secret, got.body, String(got.headers["x-hub-signature-256"]))).toBe(true);
    const validate = githubValidator("ping$event");
    expect(validate(got.json), JSON.stringify(validate.errors)).toBe(true);
    expect(got.json).toMatchObject({ hook: { active: true, events: ["push"], config: { content_type: "json", url: `${receiver.url}?hook=github` } } });
  });
});
