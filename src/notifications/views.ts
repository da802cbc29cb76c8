import type { Deployment } from "../../entities/deployment.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import type { User } from "../../entities/user.js";
import type { DeploymentEvent, GitPushEvent, SyncStatusSnapshot } from "../services/events.js";

/**
 * The `data` of a JSON delivery: each event as its subscription shows it (the GraphQL fields of
 * RollbackRequest, Deployment and SyncStatus, by the same names), without internal columns.
 */

type Dateish = Date | string | null | undefined;

export function iso(value: Dateish): string | null {
  if (value === null || value === undefined) return null;
  return new Date(value).toISOString();
}

export function userView(user: Pick<User, "id" | "email" | "name"> | null | undefined) {
  return user ? { id: user.id, email: user.email, name: user.name ?? null } : null;
}

export function rollbackRequestView(r: RollbackRequest) {
  return {
    id: r.id,
    state: r.state,
    mode: r.mode,
    project: r.projectSlug,
    tenant: r.tenant,
    environment: r.environment,
    targetSha: r.targetSha,
    baseSha: r.baseSha,
    service: r.service,
    selectedFields: r.selectedFields,
    affectedServices: r.affectedServices,
    justification: r.justification,
    requestedBy: userView(r.requestedBy),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    approvals: r.approvals,
    requiredApprovals: r.requiredApprovals,
    reviews: (r.reviews ?? []).map((v) => ({ reviewer: userView(v.reviewer), decision: v.decision, comment: v.comment, createdAt: iso(v.createdAt) })),
    notes: (r.notes ?? []).map((n) => ({ author: userView(n.author), text: n.text, createdAt: iso(n.createdAt) })),
    breakGlass: r.breakGlass,
    commitSha: r.commitSha,
    commitMessage: r.commitMessage,
    error: r.error,
    errorCode: r.errorCode,
    executionAttempts: r.executionAttempts,
  };
}

export function deploymentView(e: DeploymentEvent) {
  const d: Deployment = e.deployment;
  return {
    id: d.id,
    tenant: e.tenant,
    environment: e.environment,
    revision: d.revision,
    shortRevision: d.revision.slice(0, 7),
    deployedAt: iso(d.deployedAt),
    author: userView(d.author),
    summary: d.summary,
    source: d.source,
    status: d.status,
    changes: d.changes,
    rollbackRequestId: d.rollbackRequestId,
  };
}

export function syncStatusView(s: SyncStatusSnapshot) {
  return {
    tenant: s.tenant,
    environment: s.environment,
    revision: s.revision,
    state: s.state,
    agent: s.agent,
    health: s.health,
    lastReportAt: iso(s.lastReportAt),
    drift: s.drift,
  };
}

export function gitPushView(p: GitPushEvent, cloneUrl: string) {
  return {
    ref: `refs/heads/${p.branch}`,
    before: p.before,
    after: p.after,
    repository: { name: p.project, cloneUrl },
    commits: [{ id: p.after, message: p.message, author: p.author, timestamp: iso(p.date), added: p.added, removed: p.removed, modified: p.modified }],
  };
}
