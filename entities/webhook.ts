import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from "typeorm";
import { Node } from "./node.js";

export enum WebhookEvent {
  ROLLBACK_REQUEST_UPDATED = "ROLLBACK_REQUEST_UPDATED",
  DEPLOYMENT_RECORDED = "DEPLOYMENT_RECORDED",
  SYNC_STATUS_CHANGED = "SYNC_STATUS_CHANGED",
  GIT_PUSH = "GIT_PUSH",
}

export enum WebhookFormat {
  JSON = "JSON",
  SLACK = "SLACK",
  GITHUB_PUSH = "GITHUB_PUSH",
}

export enum WebhookDeliveryState {
  PENDING = "PENDING",
  DELIVERED = "DELIVERED",
  FAILED = "FAILED",
}

registerEnumType(WebhookEvent, {
  name: "WebhookEvent",
  description: "An event a webhook can receive.",
  valuesConfig: {
    ROLLBACK_REQUEST_UPDATED: { description: "Every state change, review and note of a rollback request." },
    DEPLOYMENT_RECORDED: { description: "A new deployment in the history, or a deployment whose status changed." },
    SYNC_STATUS_CHANGED: { description: "A cluster agent's sync report, or an agent turning UNREACHABLE." },
    GIT_PUSH: { description: "Every commit the server pushes to a project's branch." },
  },
});
registerEnumType(WebhookFormat, {
  name: "WebhookFormat",
  description: "The payload format of a webhook's deliveries.",
  valuesConfig: {
    JSON: { description: "The event as JSON: { event, deliveryId, occurredAt, project, data }." },
    SLACK: { description: "A Slack incoming-webhook message: { text, blocks }." },
    GITHUB_PUSH: { description: "A GitHub push event payload, which Argo CD's and Flux's webhook receivers accept (GIT_PUSH only)." },
  },
});
registerEnumType(WebhookDeliveryState, {
  name: "WebhookDeliveryState",
  description: "Where a webhook delivery is.",
  valuesConfig: {
    PENDING: { description: "Queued, or waiting for its next attempt." },
    DELIVERED: { description: "The receiver answered with a 2xx status." },
    FAILED: { description: "Every attempt failed; no more are made." },
  },
});

/** A receiver an ADMIN registered for a project's events. The secret is kept encrypted, for signing only. */
@ObjectType({
  implements: Node,
  description: "Deliveries are signed with X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the secret>, retried with backoff, and logged.",
})
@Entity("webhook")
@Index(["projectId"])
export class Webhook extends Node {
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Field({ description: "The http(s) URL deliveries are posted to." })
  @Column({ type: "varchar", length: 2048 })
  url: string;

  @Field(() => [WebhookEvent], { description: "The events the webhook receives." })
  @Column({ type: "simple-json" })
  events: WebhookEvent[];

  @Field(() => WebhookFormat, { description: "Payload format: JSON, SLACK or GITHUB_PUSH." })
  @Column({ type: "varchar", length: 20 })
  format: WebhookFormat;

  @Field({ description: "Whether deliveries are sent." })
  @Column({ type: "boolean", default: true })
  active: boolean;

  /** AES-256-GCM ciphertext of the secret (see src/notifications/secret-box.ts); never leaves the server. */
  @Column({ type: "text" })
  secretCiphertext: string;

  /** Sequence number of the newest delivery; deliveries are sent in this order. Bumping it row-locks the webhook. */
  @Column({ type: "integer", default: 0 })
  lastSeq: number;

  @Column({ type: "varchar", length: 40, nullable: true })
  createdById: string | null;

  @Field({ description: "When the webhook was created." })
  @CreateDateColumn()
  createdAt: Date;
}

/** One event (or test ping) for one webhook: its body as sent, and where its delivery stands. */
@ObjectType({ implements: Node, description: "One event sent (or to be sent) to a webhook, with its attempts." })
@Entity("webhook_delivery")
@Index(["webhookId", "seq"], { unique: true })
@Index(["webhookId", "state", "seq"])
@Index(["state", "nextAttemptAt"])
@Index(["createdAt"])
export class WebhookDelivery extends Node {
  @Field(() => ID, { description: "Id of the delivery (whd_...), the deliveryId of JSON payloads." })
  @PrimaryColumn({ type: "varchar", length: 40 })
  declare id: string;

  @Column({ type: "varchar", length: 40 })
  webhookId: string;

  @Column({ type: "varchar", length: 40 })
  projectId: string;

  /** Position in the webhook's queue: a delivery is attempted only when every earlier one is settled. */
  @Column({ type: "integer" })
  seq: number;

  @Field(() => WebhookEvent, { description: "The event delivered; for a ping, the webhook's first event." })
  @Column({ type: "varchar", length: 40 })
  event: WebhookEvent;

  @Field({ description: "A test delivery sent by pingWebhook (GitHub's ping event for GITHUB_PUSH webhooks)." })
  @Column({ type: "boolean", default: false })
  ping: boolean;

  /** The exact body sent (and signed) on every attempt. */
  @Column({ type: "text" })
  payload: string;

  @Field(() => WebhookDeliveryState, { description: "PENDING while attempts remain, DELIVERED or FAILED." })
  @Column({ type: "varchar", length: 20 })
  state: WebhookDeliveryState;

  @Field(() => Int, { description: "How many times sending was attempted." })
  @Column({ type: "integer", default: 0 })
  attempts: number;

  @Field(() => Int, { nullable: true, description: "HTTP status of the last attempt's response." })
  @Column({ type: "integer", nullable: true })
  responseStatus: number | null;

  @Field(() => String, { nullable: true, description: "Why the last attempt failed." })
  @Column({ type: "text", nullable: true })
  error: string | null;

  @Field({ description: "When the delivery was queued." })
  @Column()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: "When the receiver accepted it, once DELIVERED." })
  @Column({ type: Date, nullable: true })
  deliveredAt: Date | null;

  @Field(() => Date, { nullable: true, description: "When the next attempt is due, while PENDING." })
  @Column({ type: Date, nullable: true })
  nextAttemptAt: Date | null;

  /** The dispatcher holding the delivery while an attempt runs, and until when (another replica takes over after). */
  @Column({ type: "varchar", length: 64, nullable: true })
  leaseOwner: string | null;

  @Column({ type: Date, nullable: true })
  leaseUntil: Date | null;
}
