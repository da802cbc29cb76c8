import type { Logger } from "pino";
import { Role } from "../../entities/enums.js";
import { Organization } from "../../entities/organization.js";
import { newId } from "../../entities/ids.js";
import { Project } from "../../entities/project.js";
import { Webhook, WebhookDelivery, WebhookDeliveryState, WebhookEvent, WebhookFormat } from "../../entities/webhook.js";
import type { Database } from "../db/database.js";
import { badInput, notFound } from "../errors.js";
import { descendingBy, keysetPage, pageRequest, seqKey, type Page, type PageRequest } from "../services/paging.js";
import type { AccessService, ProjectAccess } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { WebhookDispatcher } from "./dispatcher.js";
import { renderBody } from "./payloads.js";
import type { SecretBox } from "./secret-box.js";
import { checkText, TEXT_RULES } from "../services/input-rules.js";

export interface CreateWebhookInput {
  project: string;
  url: string;
  events: WebhookEvent[];
  format?: WebhookFormat | null;
  secret: string;
}

const MAX_WEBHOOKS_PER_PROJECT = 20;

/**
 * Webhooks of a project: registered, listed, pinged and deleted by its ADMINs only. The URL an
 * ADMIN registers is the only place the server ever sends a project's events; the secret is
 * stored encrypted, used to sign, and never returned.
 */
export class WebhookService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly audit: AuditTrail,
    private readonly secrets: SecretBox,
    private readonly dispatcher: WebhookDispatcher,
    private readonly options: { publicUrl: () => string; logger: Logger; onCreated?: () => void },
  ) {}

  async list(actor: Actor, project: Project): Promise<Webhook[]> {
    await this.access.project(actor, project.slug, Role.ADMIN);
    return this.db.manager.find(Webhook, { where: { projectId: project.id }, order: { createdAt: "ASC", id: "ASC" } });
  }

  async create(actor: Actor, input: CreateWebhookInput): Promise<Webhook> {
    this.access.requireUser(actor);
    const { project, user } = await this.access.project(actor, input.project, Role.ADMIN);
    const url = parseReceiverUrl(input.url);
    const format = input.format ?? WebhookFormat.JSON;
    const events = [...new Set(input.events ?? [])];
    if (events.length === 0) throw badInput("events must name at least one event: ROLLBACK_REQUEST_UPDATED, DEPLOYMENT_RECORDED, SYNC_STATUS_CHANGED or GIT_PUSH");
    if (format === WebhookFormat.GITHUB_PUSH && events.some((e) => e !== WebhookEvent.GIT_PUSH)) {
      throw badInput("the GITHUB_PUSH format carries GIT_PUSH events only (it is a GitHub push event): use events: [GIT_PUSH], or the JSON or SLACK format");
    }
    const secret = input.secret ?? "";
    if (secret.length === 0) throw badInput("secret is required: the receiver verifies X-Hub-Signature-256 with it (e.g. openssl rand -hex 32)");
    checkText("secret", secret, TEXT_RULES.secret);

    const id = newId("Webhook");
    const secretCiphertext = await this.secrets.seal(secret, id);
    const created = await this.db.transaction(async (tx) => {
      const count = await tx.countBy(Webhook, { projectId: project.id });
      if (count >= MAX_WEBHOOKS_PER_PROJECT) throw badInput(`project "${project.slug}" already has ${count} webhooks, the most it may have`);
      const webhook = tx.create(Webhook, {
        id,
        projectId: project.id,
        url: url.href,
        events,
        format,
        active: true,
        secretCiphertext,
        lastSeq: 0,
        createdById: user?.id ?? null,
        createdAt: new Date(),
      });
      await tx.insert(Webhook, webhook);
      await this.audit.append(tx, { projectId: project.id, actor, action: "webhook.created", subjectId: id, details: { host: url.host, events, format } });
      return webhook;
    });
    this.options.onCreated?.();
    return created;
  }

  async delete(actor: Actor, id: string): Promise<Webhook> {
    const { webhook } = await this.administered(actor, id);
    await this.db.transaction(async (tx) => {
      await tx.delete(WebhookDelivery, { webhookId: id });
      await tx.delete(Webhook, { id });
      await this.audit.append(tx, { projectId: webhook.projectId, actor, action: "webhook.deleted", subjectId: id, details: { host: new URL(webhook.url).host } });
    });
    return Object.assign(webhook, { active: false });
  }

  /** Sends a test delivery now, outside the webhook's queue, once (no retries), and records it. */
  async ping(actor: Actor, id: string): Promise<WebhookDelivery> {
    const { webhook, access } = await this.administered(actor, id);
    const organization = await this.db.manager.findOneByOrFail(Organization, { id: access.project.organizationId });
    const delivery = Object.assign(new WebhookDelivery(), {
      id: newId("WebhookDelivery"),
      webhookId: webhook.id,
      projectId: webhook.projectId,
      event: webhook.events[0] ?? WebhookEvent.GIT_PUSH,
      ping: true,
      createdAt: new Date(),
      leaseOwner: null,
      leaseUntil: null,
      nextAttemptAt: null,
    });
    delivery.payload = renderBody(
      {
        deliveryId: delivery.id,
        webhook,
        project: { id: access.project.id, slug: access.project.slug, organization: organization.slug },
        publicUrl: this.options.publicUrl(),
        occurredAt: delivery.createdAt,
      },
      { event: "PING" },
    );
    const result = await this.dispatcher.sendOnce(webhook, delivery);
    Object.assign(delivery, {
      state: result.ok ? WebhookDeliveryState.DELIVERED : WebhookDeliveryState.FAILED,
      attempts: 1,
      responseStatus: result.status,
      error: result.error,
      deliveredAt: result.ok ? new Date() : null,
    });
    await this.db.transaction(async (tx) => {
      await tx.increment(Webhook, { id: webhook.id }, "lastSeq", 1);
      const { lastSeq } = await tx.findOneOrFail(Webhook, { where: { id: webhook.id }, select: { id: true, lastSeq: true } });
      delivery.seq = lastSeq;
      await tx.insert(WebhookDelivery, delivery);
    });
    this.options.logger.info({ webhookId: webhook.id, deliveryId: delivery.id, status: result.status, ok: result.ok }, "webhook ping sent");
    return delivery;
  }

  /** A webhook's deliveries, newest first (keyset-paged on the queue position). */
  deliveries(webhook: Webhook, paging: PageRequest): Promise<Page<WebhookDelivery>> {
    const ofWebhook = () => this.db.manager.createQueryBuilder(WebhookDelivery, "d").where("d.webhookId = :id", { id: webhook.id });
    return keysetPage({
      kind: "whd",
      key: seqKey,
      keyOf: (d: WebhookDelivery) => d.seq,
      ...pageRequest(paging),
      fetch: (range, limit) => descendingBy(ofWebhook(), "d.seq", range).limit(limit).getMany(),
      count: () => ofWebhook().getCount(),
    });
  }

  /** For node(id): the webhook or delivery when the caller administers its project; null otherwise. */
  async findNode(actor: Actor, id: string): Promise<Webhook | WebhookDelivery | null> {
    const row = id.startsWith("whd_") ? await this.db.manager.findOneBy(WebhookDelivery, { id }) : await this.db.manager.findOneBy(Webhook, { id });
    if (!row) return null;
    return (await this.access.projectById(actor, row.projectId, Role.ADMIN)) ? row : null;
  }

  /** The webhook when the caller may administer it: NOT_FOUND when its project is not theirs, FORBIDDEN below ADMIN. */
  private async administered(actor: Actor, id: string): Promise<{ webhook: Webhook; access: ProjectAccess }> {
    this.access.requireUser(actor);
    const webhook = typeof id === "string" && id.length <= 64 ? await this.db.manager.findOneBy(Webhook, { id }) : null;
    const project = webhook ? await this.db.manager.findOneBy(Project, { id: webhook.projectId }) : null;
    const visible = project ? await this.access.findProject(actor, project.slug) : null;
    if (!webhook || !project || !visible) throw notFound(`webhook "${id}" not found`);
    return { webhook, access: await this.access.project(actor, project.slug, Role.ADMIN) };
  }
}

/** Only http(s) URLs with a host, no credentials (they would be shown to every ADMIN and logged): the secret authenticates. */
export function parseReceiverUrl(raw: string): URL {
  const text = (raw ?? "").trim();
  if (text === "") throw badInput("url is required");
  checkText("url", text, TEXT_RULES.url);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(`url is not a valid URL: "${text.slice(0, 200)}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw badInput(`url must use http:// or https://, got "${url.protocol.replace(/:$/, "")}"`);
  if (!url.hostname) throw badInput("url must name a host");
  if (url.username || url.password) throw badInput("url must not carry credentials: the receiver authenticates deliveries with the secret (X-Hub-Signature-256)");
  if (url.hash) throw badInput("url must not have a #fragment");
  return url;
}
