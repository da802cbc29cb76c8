import { DeploymentSource, RollbackMode } from "../../entities/enums.js";
import type { CommitInfo } from "../git/git-store.js";

/**
 * Commit messages are the durable record of every deployment: their trailers carry enough
 * (tenant, environment, source, author, request id) to rebuild the history index from Git alone.
 */

export interface DeployMessage {
  summary: string;
  tenant: string;
  environment: string;
  service: string;
  source: DeploymentSource.RELEASE | DeploymentSource.PROMOTION;
  author: string;
  fromEnvironment?: string | null;
  /** Further `Key: Value` trailers, e.g. Hold-Override. */
  trailers?: string[];
}

export interface RollbackMessage {
  tenant: string;
  environment: string;
  targetSha: string;
  mode: RollbackMode;
  service?: string | null;
  fields?: string[];
  justification: string;
  author: string;
  approval: string;
  requestId: string;
  /** Set for rollbacks the server requested itself: `Trigger: automatic`. */
  automatic?: boolean;
}

/** Trailer values are one line; newlines in free text fold into spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, " ").trim();
}

export function deployMessage(m: DeployMessage): string {
  const trailers = [
    `Tenant: ${m.tenant}`,
    `Environment: ${m.environment}`,
    `Service: ${m.service}`,
    `Source: ${m.source.toLowerCase()}`,
    ...(m.fromEnvironment ? [`Promoted-From: ${m.fromEnvironment}`] : []),
    `Author: ${m.author}`,
    ...(m.trailers ?? []).map(oneLine),
  ];
  return `${oneLine(m.summary)}\n\n${trailers.join("\n")}\n`;
}

/** Exactly the spec's format ("Commit message of a rollback"). */
export function rollbackMessage(m: RollbackMessage): string {
  const lines = [
    `Mode: ${m.mode.toLowerCase()}`,
    ...(m.mode !== RollbackMode.FULL && m.service ? [`Service: ${m.service}`] : []),
    ...(m.mode === RollbackMode.FIELD ? [`Fields: ${(m.fields ?? []).join(", ")}`] : []),
    `Justification: ${oneLine(m.justification)}`,
    `Author: ${m.author}`,
    `Approval: ${m.approval}`,
    ...(m.automatic ? ["Trigger: automatic"] : []),
    `Rollback Request ID: ${m.requestId}`,
  ];
  return `${rollbackSubject(m.tenant, m.environment, m.targetSha)}\n\n${lines.join("\n")}\n`;
}

export function rollbackSubject(tenant: string, environment: string, targetSha: string): string {
  return `Rollback: tenant/${tenant} env/${environment} → revision ${targetSha.slice(0, 7)}`;
}

/** `Key: Value` lines of the message's last paragraph. */
export function parseTrailers(message: string): Map<string, string> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const out = new Map<string, string>();
  if (paragraphs.length < 2) return out;
  for (const line of paragraphs[paragraphs.length - 1]!.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9 -]*):\s?(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

export interface ParsedDeployment {
  tenant: string;
  environment: string;
  source: DeploymentSource;
  authorEmail: string;
  summary: string;
  requestId: string | null;
  mode: RollbackMode | null;
  service: string | null;
  fields: string[];
  targetShort: string | null;
}

const ROLLBACK_SUBJECT = /^Rollback: tenant\/(\S+) env\/(\S+) → revision ([0-9a-f]{4,40})$/;

/** Reads a commit written by this server back into a deployment; null for commits that are not deployments. */
export function parseDeploymentCommit(info: CommitInfo): ParsedDeployment | null {
  const subject = info.message.split("\n")[0]!.trim();
  const trailers = parseTrailers(info.message);
  const rollback = ROLLBACK_SUBJECT.exec(subject);
  const requestId = trailers.get("Rollback Request ID") ?? null;
  if (rollback && requestId) {
    const mode = (trailers.get("Mode") ?? "full").toUpperCase() as RollbackMode;
    return {
      tenant: rollback[1]!,
      environment: rollback[2]!,
      source: DeploymentSource.ROLLBACK,
      authorEmail: trailers.get("Author") ?? info.authorEmail,
      summary: subject,
      requestId,
      mode: Object.values(RollbackMode).includes(mode) ? mode : RollbackMode.FULL,
      service: trailers.get("Service") ?? null,
      fields: (trailers.get("Fields") ?? "")
        .split(",")
        .map((f) => f.trim())
        .filter(Boolean),
      targetShort: rollback[3]!,
    };
  }
  const tenant = trailers.get("Tenant");
  const environment = trailers.get("Environment");
  const source = (trailers.get("Source") ?? "").toUpperCase() as DeploymentSource;
  if (!tenant || !environment || ![DeploymentSource.RELEASE, DeploymentSource.PROMOTION].includes(source)) return null;
  return {
    tenant,
    environment,
    source,
    authorEmail: trailers.get("Author") ?? info.authorEmail,
    summary: subject,
    requestId: null,
    mode: null,
    service: trailers.get("Service") ?? null,
    fields: [],
    targetShort: null,
  };
}
