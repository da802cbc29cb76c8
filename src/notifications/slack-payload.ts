import { RollbackMode } from "../../entities/enums.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import { WebhookEvent } from "../../entities/webhook.js";
import type { DeploymentEvent, GitPushEvent, SyncStatusSnapshot } from "../services/events.js";
import type { DeliveryContext, DeliveryEvent } from "./delivery-event.js";

/**
 * A Slack incoming-webhook message: `text` (the notification and fallback line) and Block Kit
 * `blocks` saying who, what, where and the state, with a button to the page of the web console
 * that shows it (console-links.ts); mrkdwn control characters in user text are escaped.
 */

interface Message {
  /** One line: what happened, in plain words. */
  summary: string;
  fields: [string, string][];
  /** Longer text (justification, note, commit message), quoted. */
  detail?: string | null;
  link?: { label: string; url: string } | null;
}

/** Where the console shows a thing; null while the server has no console route for it. */
export type ConsoleLinks = (kind: "rollbackRequest" | "deployment" | "environment", ctx: DeliveryContext, ids: Record<string, string>) => string | null;

export const noConsole: ConsoleLinks = () => null;

export function slackPayload(ctx: DeliveryContext, e: DeliveryEvent, links: ConsoleLinks = noConsole) {
  const message = describe(ctx, e, links);
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: escape(message.summary) } },
    { type: "section", fields: message.fields.map(([label, value]) => ({ type: "mrkdwn", text: `*${label}*\n${escape(value)}` })) },
  ];
  if (message.detail) blocks.push({ type: "section", text: { type: "mrkdwn", text: `>${escape(truncate(message.detail, 2000)).replace(/\n/g, "\n>")}` } });
  if (message.link) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: message.link.label }, url: message.link.url }] });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: escape(`${ctx.project.slug} · ${new Date(ctx.occurredAt).toISOString()} · delivery ${ctx.deliveryId}`) }] });
  return { text: message.summary, blocks };
}

function describe(ctx: DeliveryContext, e: DeliveryEvent, links: ConsoleLinks): Message {
  switch (e.event) {
    case WebhookEvent.ROLLBACK_REQUEST_UPDATED:
      return rollbackMessage(ctx, e.request, links);
    case WebhookEvent.DEPLOYMENT_RECORDED:
      return deploymentMessage(ctx, e.deployment, links);
    case WebhookEvent.SYNC_STATUS_CHANGED:
      return syncMessage(ctx, e.status, links);
    case WebhookEvent.GIT_PUSH:
      return pushMessage(ctx, e.push);
    case "PING":
      return { summary: `Webhook test from the rollback server for project ${ctx.project.slug}`, fields: [["Events", ctx.webhook.events.join(", ")]] };
  }
}

function rollbackMessage(ctx: DeliveryContext, r: RollbackRequest, links: ConsoleLinks): Message {
  const scope = r.mode === RollbackMode.FULL ? "full" : r.mode === RollbackMode.SERVICE ? `service ${r.service}` : `fields ${r.selectedFields.join(", ")} of ${r.service}`;
  const latestReview = r.reviews?.[r.reviews.length - 1];
  const latestNote = r.notes?.[r.notes.length - 1];
  const fields: [string, string][] = [
    ["Who", r.requestedBy?.email ?? "unknown"],
    ["What", `${r.mode} rollback (${scope}) to ${r.targetSha.slice(0, 7)}`],
    ["Where", `${ctx.project.slug} ${r.tenant}/${r.environment}`],
    ["State", `${r.state}${r.requiredApprovals > 0 ? ` (approvals ${r.approvals}/${r.requiredApprovals})` : ""}${r.breakGlass ? " · break-glass" : ""}`],
  ];
  if (latestReview) fields.push(["Review", `${latestReview.decision} by ${latestReview.reviewer?.email ?? "unknown"}`]);
  if (r.commitSha) fields.push(["Commit", r.commitSha.slice(0, 7)]);
  if (r.error) fields.push(["Error", truncate(r.error, 500)]);
  const url = links("rollbackRequest", ctx, { id: r.id });
  return {
    summary: `Rollback ${r.id} of ${ctx.project.slug} ${r.tenant}/${r.environment} is ${r.state}`,
    fields,
    detail: latestNote ? `Note by ${latestNote.author?.email ?? "unknown"}: ${latestNote.text}` : r.justification,
    link: url ? { label: "Open the request", url } : null,
  };
}

function deploymentMessage(ctx: DeliveryContext, e: DeploymentEvent, links: ConsoleLinks): Message {
  const d = e.deployment;
  const url = links("deployment", ctx, { id: d.id, tenant: e.tenant, environment: e.environment });
  return {
    summary: `${d.source} ${d.revision.slice(0, 7)} in ${ctx.project.slug} ${e.tenant}/${e.environment} is ${d.status}`,
    fields: [
      ["Who", d.author?.email ?? "unknown"],
      ["What", d.summary],
      ["Where", `${ctx.project.slug} ${e.tenant}/${e.environment}`],
      ["State", d.status],
    ],
    link: url ? { label: "Open the history", url } : null,
  };
}

function syncMessage(ctx: DeliveryContext, s: SyncStatusSnapshot, links: ConsoleLinks): Message {
  const url = links("environment", ctx, { tenant: s.tenant, environment: s.environment });
  return {
    summary: `Sync of ${ctx.project.slug} ${s.tenant}/${s.environment}: ${s.state}${s.health ? `, ${s.health}` : ""} (agent ${s.agent})`,
    fields: [
      ["Who", "cluster agent"],
      ["What", s.revision ? `revision ${s.revision.slice(0, 7)}${s.drift.length ? `, ${s.drift.length} drifted item(s)` : ""}` : "no revision reported"],
      ["Where", `${ctx.project.slug} ${s.tenant}/${s.environment}`],
      ["State", `${s.state} · agent ${s.agent}`],
    ],
    link: url ? { label: "Open the environment", url } : null,
  };
}

function pushMessage(ctx: DeliveryContext, p: GitPushEvent): Message {
  const title = p.message.split("\n")[0] ?? "";
  return {
    summary: `Pushed ${p.after.slice(0, 7)} to ${ctx.project.slug} ${p.branch}: ${title}`,
    fields: [
      ["Who", p.author.email],
      ["What", `${p.added.length + p.modified.length + p.removed.length} file(s) changed`],
      ["Where", `${ctx.project.slug} refs/heads/${p.branch}`],
      ["State", "pushed"],
    ],
    detail: p.message.trim(),
  };
}

/** Slack mrkdwn: &, < and > are control characters. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
