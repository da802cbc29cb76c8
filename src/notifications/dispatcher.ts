import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { Brackets, IsNull, LessThan, Not } from "typeorm";
import { Webhook, WebhookDelivery, WebhookDeliveryState } from "../../entities/webhook.js";
import type { Database } from "../db/database.js";
import { retryDelayMs } from "./backoff.js";
import type { SecretBox } from "./secret-box.js";
import { postDelivery, type SendResult, type Sender } from "./sender.js";
import { deliveryHeaders } from "./signing.js";

const PRUNE_EVERY_MS = 10 * 60_000;

export interface DeliverySettings {
  /** One attempt's time limit (connect, send, response). */
  timeoutMs: number;
  /** Attempts per delivery before it is FAILED. */
  maxAttempts: number;
  /** Delay after the first failed attempt; each further one doubles it (with jitter). */
  retryBaseMs: number;
  /** How often the dispatcher looks for due deliveries (it is also woken by local events). */
  pollMs: number;
  /** Deliveries in flight at once per server (at most one per webhook). */
  concurrency: number;
  /** Settled deliveries are kept this long. */
  retentionDays: number;
}

/**
 * Sends what the outbox recorded, in the background of every server. Each webhook's deliveries
 * go out in their order: only the oldest PENDING one of a webhook is ever attempted, so a later
 * event never overtakes an earlier one, and a receiver that is down or slow holds back only its
 * own queue. An attempt is claimed in the database first (a lease with the attempt count), so
 * across replicas a delivery is in flight at most once; a replica that dies mid-attempt loses
 * its lease after twice the timeout and another one takes over. Attempts time out; failures are
 * retried with exponential backoff and jitter until maxAttempts, then the delivery is FAILED.
 */
export class WebhookDispatcher {
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private readonly inFlight = new Map<string, Promise<void>>();
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private lastPrune = 0;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretBox,
    private readonly config: DeliverySettings,
    private readonly logger: Logger,
    private readonly send: Sender = postDelivery,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops claiming and waits for the attempts in flight to finish and be recorded (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = null;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Looks for due deliveries now instead of at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      try {
        await this.dispatchDue();
        if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) await this.prune();
      } catch (err) {
        this.logger.error({ err }, "webhook dispatch round failed");
      }
      if (this.stopping) break;
      if (!this.woken) await this.sleep(this.config.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  /** Claims and starts the due head of every webhook queue it has room for. */
  async dispatchDue(): Promise<void> {
    const room = this.config.concurrency - this.inFlight.size;
    if (room <= 0) return;
    const now = new Date();
    const qb = this.db.manager
      .createQueryBuilder(WebhookDelivery, "d")
      .select(["d.id", "d.webhookId", "d.attempts"])
      .where("d.state = :pending", { pending: WebhookDeliveryState.PENDING })
      .andWhere("d.nextAttemptAt <= :now", { now })
      .andWhere(new Brackets((b) => b.where("d.leaseUntil IS NULL").orWhere("d.leaseUntil < :now", { now })))
      // The head of its webhook's queue: no earlier delivery of that webhook is still pending.
      .andWhere(`NOT EXISTS (SELECT 1 FROM "webhook_delivery" "e" WHERE "e"."webhookId" = "d"."webhookId" AND "e"."state" = :pending AND "e"."seq" < "d"."seq")`)
      .orderBy("d.nextAttemptAt", "ASC")
      .limit(room + this.inFlight.size);
    if (this.inFlight.size > 0) qb.andWhere("d.webhookId NOT IN (:...busy)", { busy: [...this.inFlight.keys()] });
    const due = await qb.getMany();
    for (const head of due) {
      if (this.stopping || this.inFlight.size >= this.config.concurrency) break;
      if (this.inFlight.has(head.webhookId)) continue;
      if (!(await this.claim(head, now))) continue;
      const attempt = this.attempt(head.id, head.attempts + 1)
        .catch((err) => this.logger.error({ err, deliveryId: head.id }, "webhook attempt failed unexpectedly"))
        .finally(() => {
          this.inFlight.delete(head.webhookId);
          // The next delivery of this webhook may go now.
          this.wake();
        });
      this.inFlight.set(head.webhookId, attempt);
    }
  }

  private async claim(head: Pick<WebhookDelivery, "id" | "attempts">, now: Date): Promise<boolean> {
    const until = new Date(now.getTime() + this.leaseMs());
    const result = await this.db.transaction((tx) =>
      tx
        .createQueryBuilder()
        .update(WebhookDelivery)
        .set({ leaseOwner: this.owner, leaseUntil: until, attempts: () => `"attempts" + 1` })
        .where({ id: head.id, state: WebhookDeliveryState.PENDING, attempts: head.attempts })
        .andWhere(new Brackets((b) => b.where({ leaseUntil: IsNull() }).orWhere({ leaseUntil: LessThan(now) })))
        .execute(),
    );
    return (result.affected ?? 0) > 0;
  }

  private leaseMs(): number {
    return this.config.timeoutMs * 2 + 5_000;
  }

  private async attempt(id: string, attempt: number): Promise<void> {
    const delivery = await this.db.manager.findOneBy(WebhookDelivery, { id });
    const webhook = delivery ? await this.db.manager.findOneBy(Webhook, { id: delivery.webhookId }) : null;
    if (!delivery || !webhook) return; // deleted meanwhile, with its deliveries
    const result = await this.sendOnce(webhook, delivery);
    const now = new Date();
    const settled = result.ok || attempt >= this.config.maxAttempts;
    const changes: Partial<WebhookDelivery> = {
      state: result.ok ? WebhookDeliveryState.DELIVERED : settled ? WebhookDeliveryState.FAILED : WebhookDeliveryState.PENDING,
      responseStatus: result.status,
      error: result.error,
      deliveredAt: result.ok ? now : null,
      nextAttemptAt: settled ? null : new Date(now.getTime() + retryDelayMs(attempt, this.config.retryBaseMs, { retryAfterMs: result.retryAfterMs })),
      leaseOwner: null,
      leaseUntil: null,
    };
    await this.db.transaction((tx) => tx.createQueryBuilder().update(WebhookDelivery).set(changes).where({ id, leaseOwner: this.owner, attempts: attempt }).execute());
    const log = { deliveryId: id, webhookId: webhook.id, event: delivery.event, attempt, status: result.status };
    if (result.ok) this.logger.info(log, "webhook delivered");
    else if (settled) this.logger.warn({ ...log, error: result.error }, "webhook delivery FAILED: no attempts left");
    else this.logger.warn({ ...log, error: result.error, nextAttemptAt: changes.nextAttemptAt }, "webhook attempt failed; will retry");
  }

  /** One signed POST of a delivery's body (pings use it too). */
  async sendOnce(webhook: Webhook, delivery: Pick<WebhookDelivery, "id" | "event" | "ping" | "payload">): Promise<SendResult> {
    let secret: string;
    try {
      secret = await this.secrets.open(webhook.secretCiphertext, webhook.id);
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message, retryAfterMs: null };
    }
    const headers = deliveryHeaders({
      secret,
      body: delivery.payload,
      deliveryId: delivery.id,
      webhookId: webhook.id,
      format: webhook.format,
      event: delivery.event,
      ping: delivery.ping,
    });
    return this.send(webhook.url, delivery.payload, headers, this.config.timeoutMs);
  }

  /** Drops settled deliveries older than the retention period. */
  private async prune(): Promise<void> {
    this.lastPrune = Date.now();
    const cutoff = new Date(Date.now() - this.config.retentionDays * 86_400_000);
    const result = await this.db.transaction((tx) =>
      tx
        .createQueryBuilder()
        .delete()
        .from(WebhookDelivery)
        .where({ createdAt: LessThan(cutoff), state: Not(WebhookDeliveryState.PENDING) })
        .execute(),
    );
    if (result.affected) this.logger.info({ deleted: result.affected, olderThanDays: this.config.retentionDays }, "pruned settled webhook deliveries");
  }
}
