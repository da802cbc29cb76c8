import { createHmac } from "node:crypto";
import { WebhookFormat } from "../../entities/webhook.js";
import { numericId } from "./delivery-event.js";

/**
 * Headers of one delivery, signed as GitHub signs: X-Hub-Signature-256 is
 * `sha256=<hex HMAC-SHA256 of the raw body with the secret>` (what Argo CD, Flux and
 * @octokit/webhooks-methods verify); the legacy SHA-1 form goes along for older receivers.
 */
export function deliveryHeaders(input: {
  secret: string;
  body: string;
  deliveryId: string;
  webhookId: string;
  format: WebhookFormat;
  /** The WebhookEvent, or PING. */
  event: string;
  ping: boolean;
}): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "rollback-server-webhooks/1",
    "x-hub-signature-256": `sha256=${hmac("sha256", input.secret, input.body)}`,
    "x-hub-signature": `sha1=${hmac("sha1", input.secret, input.body)}`,
    "x-rollback-event": input.ping ? "PING" : input.event,
    "x-rollback-delivery": input.deliveryId,
  };
  if (input.format === WebhookFormat.GITHUB_PUSH) {
    headers["x-github-event"] = input.ping ? "ping" : "push";
    headers["x-github-delivery"] = input.deliveryId;
    headers["x-github-hook-id"] = String(numericId(input.webhookId));
  }
  return headers;
}

function hmac(algorithm: "sha256" | "sha1", secret: string, body: string): string {
  return createHmac(algorithm, secret).update(body, "utf8").digest("hex");
}
