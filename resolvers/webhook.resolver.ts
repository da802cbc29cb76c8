import { Arg, Args, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { Project } from "../entities/project.js";
import { Webhook, WebhookDelivery, WebhookEvent, WebhookFormat } from "../entities/webhook.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { toConnection, WebhookDeliveryConnection } from "./types/connections.js";
import { BackwardPageArgs, Paging } from "./types/page-args.js";
import type { PageRequest } from "../src/services/paging.js";

@Resolver(() => Webhook)
export class WebhookResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => Webhook, { description: "ADMIN only. Deliveries go to this http(s) URL only; the secret is stored encrypted (the server signs with it) and never returned." })
  createWebhook(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("url", { description: "The http(s) URL to post deliveries to." }) url: string,
    @Arg("events", () => [WebhookEvent], { description: "The events to send." }) events: WebhookEvent[],
    @Arg("format", () => WebhookFormat, { nullable: true, defaultValue: WebhookFormat.JSON, description: "Payload format." }) format: WebhookFormat,
    @Arg("secret", { description: "Shared secret the deliveries are signed with." }) secret: string,
    @CurrentActor() actor: Actor,
  ): Promise<Webhook> {
    return this.services.webhooks.create(actor, { project, url, events, format, secret });
  }

  @Mutation(() => Webhook, { description: "ADMIN only. Removes the webhook and its deliveries; nothing more is sent to it." })
  deleteWebhook(@Arg("id", () => ID, { description: "Id of the webhook (whk_...)." }) id: string, @CurrentActor() actor: Actor): Promise<Webhook> {
    return this.services.webhooks.delete(actor, id);
  }

  @Mutation(() => WebhookDelivery, { description: "Sends a test delivery now and returns it." })
  pingWebhook(@Arg("id", () => ID, { description: "Id of the webhook (whk_...)." }) id: string, @CurrentActor() actor: Actor): Promise<WebhookDelivery> {
    return this.services.webhooks.ping(actor, id);
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: "Newest first." })
  async deliveries(
    @Root() webhook: Webhook,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20, description: "Page size, 0 to 500." }) _first: number,
    @Arg("after", () => String, { nullable: true, description: "Cursor (an edge's cursor or pageInfo.endCursor) to continue after." }) _after: string | null,
    @Args() _backward: BackwardPageArgs,
    @Paging() paging: PageRequest,
  ): Promise<WebhookDeliveryConnection> {
    return toConnection(await this.services.webhooks.deliveries(webhook, paging));
  }
}

@Resolver(() => Project)
export class ProjectWebhooksResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [Webhook], { description: "ADMIN only." })
  webhooks(@Root() project: Project, @CurrentActor() actor: Actor): Promise<Webhook[]> {
    return this.services.webhooks.list(actor, project);
  }
}
