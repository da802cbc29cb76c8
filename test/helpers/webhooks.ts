import type { TestServer } from "./server.js";

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
  const data = await t.ok<{ createWebhook: WebhookView }>(token, CREATE_WEBHOOK, {
    p: input.project ?? "demo",
    u: input.url,
    e: input.events,
    f: input.format ?? "JSON",
    s: input.secret,
  });
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
