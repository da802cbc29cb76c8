import { In, type EntityManager } from "typeorm";
import type { Logger } from "pino";
import { newId } from "../../entities/ids.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import { User } from "../../entities/user.js";
import { Webhook, WebhookDelivery, WebhookDeliveryState, WebhookEvent } from "../../entities/webhook.js";
import { bindParameter, type TransactionHook } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { REQUEST_RELATIONS } from "../rollback/queries.js";
import type { EventOutbox, StagedEvent } from "../services/events.js";
import type { DeliveryContext, DeliveryEvent } from "./delivery-event.js";
import { renderBody } from "./payloads.js";
import type { ConsoleLinks } from "./slack-payload.js";

/**
 * The transactional outbox of webhook deliveries. Services stage events inside the transaction
 * that makes the change (Events.inTransaction); at the end of that same transaction one delivery
 * row per subscribed webhook is written, with its body rendered from the state the transaction
 * leaves. So a delivery exists exactly when its change committed, and survives any crash after.
 * The webhook rows are locked last and in id order (to number their deliveries), so two
 * transactions never wait on each other's locks in a cycle.
 */
export class WebhookOutbox implements EventOutbox, TransactionHook {
  private readonly staged = new WeakMap<EntityManager, StagedEvent[]>();
  private readonly wrote = new WeakSet<EntityManager>();
  private webhookRows: RowReader<Webhook> | null = null;
  /**
   * Projects found without an active webhook during one API request (a rollback stages events in
   * three transactions), so the next transactions of that request do not ask again. Only that
   * answer is kept: a webhook found is looked up again in each transaction, which locks it. A
   * webhook created in this process since (the generation) is seen at once.
   */
  private readonly withoutWebhooks = new WeakMap<object, { generation: number; projects: Set<string> }>();
  private generation = 0;

  constructor(
    private readonly options: {
      logger: Logger;
      publicUrl: () => string;
      links?: ConsoleLinks;
      /** Called once a transaction that wrote deliveries committed (wakes the dispatcher). */
      onDeliveries: () => void;
      /** The API request being served, if any: what a project found without webhooks is remembered for. */
      request?: () => object | undefined;
    },
  ) {}

  stage(tx: EntityManager, event: StagedEvent): void {
    const list = this.staged.get(tx);
    if (list) list.push(event);
    else this.staged.set(tx, [event]);
  }

  async beforeCommit(tx: EntityManager): Promise<void> {
    const events = this.staged.get(tx);
    if (!events) return;
    this.staged.delete(tx);
    const projectIds = [...new Set(events.map((e) => e.projectId))];
    const webhooks = await this.activeWebhooks(tx, projectIds);
    if (webhooks.length === 0) return;

    const resolved = await this.resolve(tx, dedupe(events));
    const projects = await this.projects(tx, projectIds);
    let written = 0;
    for (const webhook of webhooks) {
      const mine = resolved.filter((r) => r.staged.projectId === webhook.projectId && webhook.events.includes(r.event.event as WebhookEvent));
      if (mine.length === 0) continue;
      await tx.increment(Webhook, { id: webhook.id }, "lastSeq", mine.length);
      const { lastSeq } = await tx.findOneOrFail(Webhook, { where: { id: webhook.id }, select: { id: true, lastSeq: true } });
      const rows = mine.map((r, i) => this.delivery(webhook, projects.get(webhook.projectId)!, r, lastSeq - mine.length + 1 + i));
      await tx.createQueryBuilder().insert().into(WebhookDelivery).values(rows).updateEntity(false).execute();
      written += rows.length;
    }
    if (written > 0) this.wrote.add(tx);
  }

  /** A webhook was created: no project is known to be without one any more. */
  webhookCreated(): void {
    this.generation++;
  }

  /** The projects' active webhooks in id order: every transaction that stages an event asks, so in fixed SQL. */
  private async activeWebhooks(tx: EntityManager, projectIds: string[]): Promise<Webhook[]> {
    const request = this.options.request?.();
    let known = request ? this.withoutWebhooks.get(request) : undefined;
    if (known && known.generation !== this.generation) known = undefined;
    const without = known?.projects;
    if (without && projectIds.every((id) => without.has(id))) return [];
    const webhooks = await this.queryActiveWebhooks(tx, projectIds);
    if (request && webhooks.length === 0) {
      if (!known) this.withoutWebhooks.set(request, (known = { generation: this.generation, projects: new Set() }));
      for (const id of projectIds) known.projects.add(id);
    }
    return webhooks;
  }

  private async queryActiveWebhooks(tx: EntityManager, projectIds: string[]): Promise<Webhook[]> {
    const reader = (this.webhookRows ??= new RowReader(tx.connection, Webhook, "w"));
    const param = (n: number) => bindParameter(tx.connection, n);
    const rows: Record<string, unknown>[] = await tx.query(
      `SELECT ${reader.select} FROM "webhook" "w" WHERE "w"."projectId" IN (${projectIds.map((_, i) => param(i + 1)).join(", ")}) AND "w"."active" = ${param(projectIds.length + 1)} ORDER BY "w"."id" ASC`,
      [...projectIds, true],
    );
    return rows.map((row) => reader.read(row)!);
  }

  afterCommit(tx: EntityManager): void {
    if (!this.wrote.has(tx)) return;
    this.wrote.delete(tx);
    this.options.onDeliveries();
  }

  private delivery(webhook: Webhook, project: DeliveryContext["project"], r: { staged: StagedEvent; event: DeliveryEvent }, seq: number): WebhookDelivery {
    const id = newId("WebhookDelivery");
    const now = new Date();
    const base = {
      id,
      webhookId: webhook.id,
      projectId: webhook.projectId,
      seq,
      event: r.event.event as WebhookEvent,
      ping: false,
      attempts: 0,
      responseStatus: null,
      createdAt: now,
      deliveredAt: null,
      leaseOwner: null,
      leaseUntil: null,
    };
    try {
      const payload = renderBody({ deliveryId: id, webhook, project, publicUrl: this.options.publicUrl(), occurredAt: r.staged.occurredAt }, r.event, this.options.links);
      return Object.assign(new WebhookDelivery(), base, { payload, state: WebhookDeliveryState.PENDING, error: null, nextAttemptAt: now });
    } catch (err) {
      // A payload that cannot be built must not undo the change it reports: the delivery records why.
      this.options.logger.error({ err, webhookId: webhook.id, event: r.event.event }, "could not render a webhook payload");
      return Object.assign(new WebhookDelivery(), base, {
        payload: "",
        state: WebhookDeliveryState.FAILED,
        error: `could not render the payload: ${(err as Error).message}`,
        nextAttemptAt: null,
      });
    }
  }

  /** Each staged event with what its payload needs, read in the transaction (so it is the state being committed). */
  private async resolve(tx: EntityManager, events: StagedEvent[]): Promise<{ staged: StagedEvent; event: DeliveryEvent }[]> {
    const requestIds = events.flatMap((e) => (e.topic === "rollbackRequestUpdated" ? [e.requestId] : []));
    const requests = new Map<string, RollbackRequest>();
    if (requestIds.length > 0) {
      const found = await tx.find(RollbackRequest, {
        where: { id: In(requestIds) },
        relations: REQUEST_RELATIONS,
        order: { reviews: { createdAt: "ASC" }, notes: { createdAt: "ASC" } },
      });
      for (const r of found) requests.set(r.id, r);
    }
    const authorIds = events.flatMap((e) => (e.topic === "deploymentRecorded" && !e.event.deployment.author ? [e.event.deployment.authorId] : []));
    const authors = new Map((authorIds.length ? await tx.findBy(User, { id: In([...new Set(authorIds)]) }) : []).map((u) => [u.id, u]));
    const out: { staged: StagedEvent; event: DeliveryEvent }[] = [];
    for (const staged of events) {
      switch (staged.topic) {
        case "rollbackRequestUpdated": {
          const request = requests.get(staged.requestId);
          if (request) out.push({ staged, event: { event: WebhookEvent.ROLLBACK_REQUEST_UPDATED, request } });
          break;
        }
        case "deploymentRecorded": {
          const deployment = { ...staged.event.deployment, author: staged.event.deployment.author ?? authors.get(staged.event.deployment.authorId)! };
          out.push({ staged, event: { event: WebhookEvent.DEPLOYMENT_RECORDED, deployment: { ...staged.event, deployment } } });
          break;
        }
        case "syncStatusChanged":
          out.push({ staged, event: { event: WebhookEvent.SYNC_STATUS_CHANGED, status: staged.status } });
          break;
        case "gitPushed":
          out.push({ staged, event: { event: WebhookEvent.GIT_PUSH, push: staged.push } });
          break;
      }
    }
    return out;
  }

  private async projects(tx: EntityManager, ids: string[]): Promise<Map<string, DeliveryContext["project"]>> {
    const projects = await tx.findBy(Project, { id: In(ids) });
    const orgs = new Map((await tx.findBy(Organization, { id: In([...new Set(projects.map((p) => p.organizationId))]) })).map((o) => [o.id, o.slug]));
    return new Map(projects.map((p) => [p.id, { id: p.id, slug: p.slug, organization: orgs.get(p.organizationId) ?? p.slug }]));
  }
}

/** A request staged twice in one transaction is one change: its last state, once. */
function dedupe(events: StagedEvent[]): StagedEvent[] {
  const lastOf = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.topic === "rollbackRequestUpdated") lastOf.set(e.requestId, i);
  });
  return events.filter((e, i) => e.topic !== "rollbackRequestUpdated" || lastOf.get(e.requestId) === i);
}
