import type { RollbackRequest } from "../../entities/rollback-request.js";
import { WebhookEvent, type Webhook } from "../../entities/webhook.js";
import type { DeploymentEvent, GitPushEvent, SyncStatusSnapshot } from "../services/events.js";

/** One event as a delivery carries it: what happened, plus where (project, organization) and when. */
export type DeliveryEvent =
  | { event: WebhookEvent.ROLLBACK_REQUEST_UPDATED; request: RollbackRequest }
  | { event: WebhookEvent.DEPLOYMENT_RECORDED; deployment: DeploymentEvent }
  | { event: WebhookEvent.SYNC_STATUS_CHANGED; status: SyncStatusSnapshot }
  | { event: WebhookEvent.GIT_PUSH; push: GitPushEvent }
  | { event: "PING" };

export interface DeliveryContext {
  deliveryId: string;
  webhook: Pick<Webhook, "id" | "url" | "events" | "format" | "active" | "createdAt">;
  project: { id: string; slug: string; organization: string };
  /** The server's base URL as receivers reach it (repository URLs, links). */
  publicUrl: string;
  occurredAt: Date;
}

/** A stable positive 31-bit number for an id: GitHub payloads carry integer ids. */
export function numericId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 1 || 1;
}
