import type { TestServer } from "./harness.js";

/** Retries in milliseconds, so tests see several attempts within a second or two. */
export const FAST_WEBHOOKS: Record<string, string> = {
  WEBHOOK_RETRY_BASE_MS: "40",
  WEBHOOK_POLL_MS: "25",
  WEBHOOK_TIMEOUT_MS: "1500",
  WEBHOOK_MAX_ATTEMPTS: "4",
};

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  format: string;
  active: boolean;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  event: string;
  state: "PENDING" | "DELIVERED" | "FAILED";
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  ping: boolean;
}

export const CREATE_WEBHOOK = `mutation($p:String!,$u:String!,$e:[WebhookEvent!]!,$f:WebhookFormat,$s:String!){
  createWebhook(project:$p,url:$u,events:$e,format:$f,secret:$s){ id url events format active createdAt } }`;

const DELIVERY_FIELDS = "id event state attempts responseStatus error createdAt deliveredAt nextAttemptAt ping";

export async function createWebhook(
  t: TestServer,
  token: string,
  input: { project?: string; url: string; events: string[]; format?: string; secret: string },
): Promise<WebhookView> {
  const data = await t.ok<{ createWebhook: WebhookView }>(token, CREATE_WEBHOOK, { p: input.project ?? "demo", u: input.url, e: input.events, f: input.format ?? "JSON", s: input.secret });
  return data.createWebhook;
}

/** A webhook's deliveries, oldest first. */
export async function deliveriesOf(t: TestServer, token: string, webhookId: string): Promise<DeliveryView[]> {
  const data = await t.ok<{ node: { deliveries: { nodes: DeliveryView[] } } | null }>(
    token,
    `query($id:ID!){ node(id:$id){ ... on Webhook { deliveries(first:500){ nodes { ${DELIVERY_FIELDS} } } } } }`,
    { id: webhookId },
  );
  return [...(data.node?.deliveries.nodes ?? [])].reverse();
}

export async function pingWebhook(t: TestServer, token: string, id: string): Promise<DeliveryView> {
  return (await t.ok<{ pingWebhook: DeliveryView }>(token, `mutation($id:ID!){ pingWebhook(id:$id){ ${DELIVERY_FIELDS} } }`, { id })).pingWebhook;
}

/** Polls until `check` returns a value (or fails the test after the timeout). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The revision `back` deployments before the newest one of a tenant-environment. */
export async function revisionBack(t: TestServer, token: string, tenant: string, environment: string, back = 1, project = "demo"): Promise<string> {
  const data = await t.ok<{ deploymentHistory: { nodes: { revision: string }[] } }>(
    token,
    `query($p:String!,$t:String!,$e:String!,$n:Int){ deploymentHistory(project:$p,tenant:$t,environment:$e,first:$n){ nodes{ revision } } }`,
    { p: project, t: tenant, e: environment, n: back + 1 },
  );
  return data.deploymentHistory.nodes[back]!.revision;
}

export const REQUEST_ROLLBACK = `mutation($p:String!,$t:String!,$e:String!,$sha:String!,$m:RollbackMode!,$svc:String,$j:String!){
  requestRollback(input:{project:$p,tenant:$t,environment:$e,mode:$m,targetSha:$sha,service:$svc,justification:$j}){ id state commitSha } }`;

export async function rollBack(
  t: TestServer,
  token: string,
  input: { tenant: string; environment: string; targetSha: string; mode?: string; service?: string; project?: string; justification?: string },
): Promise<{ id: string; state: string; commitSha: string | null }> {
  const data = await t.ok<{ requestRollback: { id: string; state: string; commitSha: string | null } }>(token, REQUEST_ROLLBACK, {
    p: input.project ?? "demo",
    t: input.tenant,
    e: input.environment,
    sha: input.targetSha,
    m: input.mode ?? "FULL",
    svc: input.service ?? null,
    j: input.justification ?? "webhook test",
  });
  return data.requestRollback;
}

/**
 * git against a project's repository, without blocking the event loop (the server under test runs
 * in this process: a synchronous child process would stall it and break keep-alive sockets).
 */
export async function gitOf(t: TestServer, project: string, ...args: string[]): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) =>
    execFile("git", ["-C", t.repoPath(project), ...args], { encoding: "utf8" }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
}
