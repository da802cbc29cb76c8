import { WebhookEvent, WebhookFormat } from "../../entities/webhook.js";
import { repositoryUrl } from "../git/layout.js";
import type { DeliveryContext, DeliveryEvent } from "./delivery-event.js";
import { githubPingPayload, githubPushPayload } from "./github-payload.js";
import { slackPayload, type ConsoleLinks } from "./slack-payload.js";
import { deploymentView, gitPushView, rollbackRequestView, syncStatusView } from "./views.js";

/** The body of one delivery in the webhook's format: rendered once, then sent (and signed) as is on every attempt. */
export function renderBody(ctx: DeliveryContext, e: DeliveryEvent, links?: ConsoleLinks): string {
  switch (ctx.webhook.format) {
    case WebhookFormat.GITHUB_PUSH:
      if (e.event === "PING") return JSON.stringify(githubPingPayload(ctx));
      if (e.event !== WebhookEvent.GIT_PUSH) throw new Error(`GITHUB_PUSH webhooks carry GIT_PUSH events only, not ${e.event}`);
      return JSON.stringify(githubPushPayload(ctx, e.push));
    case WebhookFormat.SLACK:
      return JSON.stringify(slackPayload(ctx, e, links));
    case WebhookFormat.JSON:
      return JSON.stringify({
        event: e.event,
        deliveryId: ctx.deliveryId,
        occurredAt: new Date(ctx.occurredAt).toISOString(),
        project: ctx.project.slug,
        data: jsonData(ctx, e),
      });
  }
}

function jsonData(ctx: DeliveryContext, e: DeliveryEvent): unknown {
  switch (e.event) {
    case WebhookEvent.ROLLBACK_REQUEST_UPDATED:
      return rollbackRequestView(e.request);
    case WebhookEvent.DEPLOYMENT_RECORDED:
      return deploymentView(e.deployment);
    case WebhookEvent.SYNC_STATUS_CHANGED:
      return syncStatusView(e.status);
    case WebhookEvent.GIT_PUSH:
      return gitPushView(e.push, repositoryUrl(ctx.publicUrl, ctx.project.slug));
    case "PING":
      return { webhook: { id: ctx.webhook.id, url: ctx.webhook.url, events: ctx.webhook.events, format: ctx.webhook.format }, zen: "Rollbacks are commits too." };
  }
}

/** The event name GitHub receivers dispatch on (X-GitHub-Event). */
export function githubEventName(ping: boolean): string {
  return ping ? "ping" : "push";
}
