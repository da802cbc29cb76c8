import { expect } from "vitest";
import { tokenOf } from "./demo.js";
import { commitCount, head } from "./git.js";
import type { GqlResult, TestServer } from "./server.js";

/**
 * The API as a client uses it: GraphQL documents, the shapes they return, and one typed call per
 * operation. Everything goes over HTTP to the real server.
 */

// ------------------------------------------------------------------ documents

export const FIELD_CHANGE_FIELDS = `service file path kind before after selector`;

export const DEPLOYMENT_FIELDS = `
  id revision shortRevision deployedAt summary source status
  author { id email name }
  changes { ${FIELD_CHANGE_FIELDS} }
  rollbackRequest { id state }
`;

export const REQUEST_FIELDS = `
  id state mode project tenant environment targetSha baseSha service selectedFields affectedServices
  justification requestedBy { email } createdAt updatedAt
  reviews { reviewer { email } decision comment createdAt }
  approvals requiredApprovals breakGlass commitSha commitMessage error
  notes { author { email } text createdAt }
`;

const COMPARISON_FIELDS = `
  impact { services bindings variables fields files }
  services { service changes { ${FIELD_CHANGE_FIELDS} } files { path kind patch } }
  environmentChanges { ${FIELD_CHANGE_FIELDS} }
  environmentFiles { path kind patch }
`;

export const HISTORY_QUERY = `
  query History($p: String!, $t: String!, $e: String!, $first: Int, $after: String, $source: DeploymentSource, $status: DeploymentStatus) {
    deploymentHistory(project: $p, tenant: $t, environment: $e, first: $first, after: $after, source: $source, status: $status) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ${DEPLOYMENT_FIELDS} } }
      nodes { id }
    }
  }
`;

export const COMPARE = `
  query Compare($p: String!, $t: String!, $e: String!, $target: String!, $base: String) {
    compareRevisions(project: $p, tenant: $t, environment: $e, target: $target, base: $base) { tenant environment base target ${COMPARISON_FIELDS} }
  }
`;

export const PREVIEW_ROLLBACK = `
  query Preview($input: RollbackInput!) {
    previewRollback(input: $input) {
      mode targetSha baseSha headSha blastRadius approvalRequired requiredApprovals breakGlassActive affectedServices
      ${COMPARISON_FIELDS}
    }
  }
`;

export const DEPLOY = `mutation Deploy($input: DeployInput!) { deploy(input: $input) { ${DEPLOYMENT_FIELDS} } }`;
export const REQUEST_ROLLBACK = `mutation Request($input: RollbackInput!, $key: String) { requestRollback(input: $input, idempotencyKey: $key) { ${REQUEST_FIELDS} } }`;
export const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $comment: String) { reviewRollbackRequest(id: $id, decision: $decision, comment: $comment) { ${REQUEST_FIELDS} } }`;
export const RETRY = `mutation($id: ID!) { retryRollbackExecution(id: $id) { ${REQUEST_FIELDS} } }`;
export const ADD_NOTE = `mutation($id: ID!, $text: String!) { addRollbackNote(id: $id, text: $text) { ${REQUEST_FIELDS} } }`;
export const GET_REQUEST = `query($id: ID!) { rollbackRequest(id: $id) { ${REQUEST_FIELDS} } }`;
export const SET_POLICY = `mutation($p: String!, $e: String!, $n: Int!, $self: Boolean!) {
  setApprovalPolicy(project: $p, environment: $e, requiredApprovals: $n, allowSelfApproval: $self) { environment requiredApprovals allowSelfApproval } }`;
const BREAK_GLASS_FIELDS = `id user { email } justification openedAt expiresAt closedAt`;
export const OPEN_BREAK_GLASS = `mutation($p: String!, $j: String!, $m: Int) {
  openBreakGlassSession(project: $p, justification: $j, durationMinutes: $m) { ${BREAK_GLASS_FIELDS} } }`;
export const CLOSE_BREAK_GLASS = `mutation($id: ID!) { closeBreakGlassSession(id: $id) { ${BREAK_GLASS_FIELDS} } }`;
const SYNC_FIELDS = `revision state agent health lastReportAt drift { kind name field desired actual }`;
export const REPORT_SYNC = `mutation($i: SyncReportInput!) { reportSyncStatus(input: $i) { ${SYNC_FIELDS} } }`;
export const AUDIT_FIELDS = `id at actor { email } action breakGlass subjectId details hash`;

export const ROLLBACK_REQUEST_UPDATED = `subscription($p: String!, $t: String, $e: String, $id: ID) {
  rollbackRequestUpdated(project: $p, tenant: $t, environment: $e, id: $id) { ${REQUEST_FIELDS} } }`;
export const DEPLOYMENT_RECORDED = `subscription Recorded($p: String!, $t: String, $e: String) {
  deploymentRecorded(project: $p, tenant: $t, environment: $e) { id revision source status summary author { email } } }`;
export const SYNC_STATUS_CHANGED = `subscription($p: String!, $t: String, $e: String) {
  syncStatusChanged(project: $p, tenant: $t, environment: $e) { tenant environment ${SYNC_FIELDS} } }`;

// ------------------------------------------------------------------ shapes as the client sees them

export interface FieldChangeView {
  service: string | null;
  file: string;
  path: string;
  kind: string;
  before: unknown;
  after: unknown;
  selector?: string | null;
}

export interface FileDiffView {
  path: string;
  kind: "ADDED" | "REMOVED" | "MODIFIED";
  patch: string;
}

export interface DeploymentView {
  id: string;
  revision: string;
  shortRevision: string;
  deployedAt: string;
  summary: string;
  source: "RELEASE" | "PROMOTION" | "ROLLBACK";
  status: "PENDING" | "SUCCESS" | "FAILED" | "ROLLED_BACK";
  author: { id: string; email: string; name: string | null };
  changes: FieldChangeView[];
  rollbackRequest: { id: string; state: string } | null;
}

/** A deploymentRecorded event as DEPLOYMENT_RECORDED selects it. */
export interface RecordedDeployment {
  id: string;
  revision: string;
  source: string;
  status: string;
  summary: string;
  author: { email: string };
}

export interface HistoryPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string; node: DeploymentView }[];
  nodes: { id: string }[];
}

export interface RollbackRequestView {
  id: string;
  state: string;
  mode: string;
  project: string;
  tenant: string;
  environment: string;
  targetSha: string;
  baseSha: string;
  service: string | null;
  selectedFields: string[];
  affectedServices: string[];
  justification: string;
  requestedBy: { email: string };
  createdAt: string;
  updatedAt: string;
  reviews: { reviewer: { email: string }; decision: string; comment: string | null; createdAt: string }[];
  approvals: number;
  requiredApprovals: number;
  breakGlass: boolean;
  commitSha: string | null;
  commitMessage: string | null;
  error: string | null;
  notes: { author: { email: string }; text: string; createdAt: string }[];
}

export interface ServiceDiffView {
  service: string;
  changes: FieldChangeView[];
  files: FileDiffView[];
}

export interface ImpactView {
  services: number;
  bindings: number;
  variables: number;
  fields: number;
  files: number;
}

interface ChangeSummaryView {
  impact: ImpactView;
  services: ServiceDiffView[];
  environmentChanges: FieldChangeView[];
  environmentFiles: FileDiffView[];
}

export interface PreviewView extends ChangeSummaryView {
  mode: string;
  targetSha: string;
  baseSha: string;
  headSha: string;
  blastRadius: string;
  approvalRequired: boolean;
  requiredApprovals: number;
  breakGlassActive: boolean;
  affectedServices: string[];
}

export interface ComparisonView extends ChangeSummaryView {
  tenant: string;
  environment: string;
  base: string;
  target: string;
}

export interface BreakGlassView {
  id: string;
  user: { email: string };
  justification: string;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
}

export interface DriftView {
  kind: string;
  name: string;
  field: string | null;
  desired: unknown;
  actual: unknown;
}

export interface SyncView {
  revision: string | null;
  state: string;
  agent: string;
  health: string | null;
  lastReportAt: string | null;
  drift: DriftView[];
}

/** A syncStatusChanged event: the status and where it applies. */
export interface SyncEvent extends SyncView {
  tenant: string;
  environment: string;
}

export interface AuditRow {
  id: string;
  at: string;
  actor: { email: string } | null;
  action: string;
  breakGlass: boolean;
  subjectId: string | null;
  details: Record<string, unknown>;
  hash: string;
}

/** A complete rollback input (what RollbackInput takes). */
export type RollbackInputVars = {
  project: string;
  tenant: string;
  environment: string;
  mode: "FULL" | "SERVICE" | "FIELD";
  targetSha?: string | null;
  service?: string | null;
  fields?: string[] | null;
  justification?: string | null;
};

// ------------------------------------------------------------------ history and comparison

export async function historyPage(
  t: TestServer,
  token: string,
  tenant: string,
  environment: string,
  args: { first?: number; after?: string | null; source?: string; status?: string; project?: string } = {},
): Promise<HistoryPage> {
  const data = await t.ok<{ deploymentHistory: HistoryPage }>(token, HISTORY_QUERY, {
    p: args.project ?? "demo",
    t: tenant,
    e: environment,
    first: args.first,
    after: args.after ?? null,
    source: args.source,
    status: args.status,
  });
  return data.deploymentHistory;
}

/** Every deployment of a tenant-environment, newest first, by walking the pages. */
export async function fullHistory(
  t: TestServer,
  token: string,
  tenant: string,
  environment: string,
  args: { pageSize?: number; source?: string; status?: string; project?: string } = {},
): Promise<DeploymentView[]> {
  const out: DeploymentView[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page: HistoryPage = await historyPage(t, token, tenant, environment, {
      first: args.pageSize ?? 50,
      after,
      source: args.source,
      status: args.status,
      project: args.project,
    });
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
  throw new Error("history paging did not end");
}

/** The newest `first` deployments of a tenant-environment, newest first. */
export async function recentDeployments(t: TestServer, token: string, tenant: string, environment: string, first = 100, project = "demo"): Promise<DeploymentView[]> {
  return (await historyPage(t, token, tenant, environment, { first, project })).edges.map((e) => e.node);
}

/** The revision `back` deployments before the newest one of a tenant-environment. */
export async function revisionBack(t: TestServer, token: string, tenant: string, environment: string, back = 1, project = "demo"): Promise<string> {
  return (await recentDeployments(t, token, tenant, environment, back + 1, project))[back]!.revision;
}

/** The revisions of the newest `first` deployments of a tenant-environment, newest first. */
export async function historyRevisions(t: TestServer, token: string, project: string, tenant: string, environment: string, first = 50): Promise<string[]> {
  return (await recentDeployments(t, token, tenant, environment, first, project)).map((d) => d.revision);
}

export async function currentRevision(t: TestServer, tenant: string, environment: string, project = "demo"): Promise<string> {
  const data = await t.ok<{ tenantEnvironment: { currentRevision: string } }>(
    tokenOf(t, "alice"),
    `query($p: String!, $t: String!, $e: String!) { tenantEnvironment(project: $p, tenant: $t, environment: $e) { currentRevision } }`,
    { p: project, t: tenant, e: environment },
  );
  return data.tenantEnvironment.currentRevision;
}

// ------------------------------------------------------------------ deployments

export interface DeployVars {
  project?: string;
  tenant: string;
  environment: string;
  service: string;
  /** RELEASE: field path -> new value. */
  set?: Record<string, unknown>;
  /** PROMOTION: the environment to copy the service from. */
  fromEnvironment?: string;
  summary?: string;
  /** Deploy over a hold (DEPLOYER or above), with the justification the audit trail records. */
  overrideHolds?: boolean;
  holdOverrideJustification?: string;
}

/** A RELEASE (set) or PROMOTION (fromEnvironment) that must succeed. */
export async function deploy(t: TestServer, token: string, input: DeployVars): Promise<DeploymentView> {
  const source = input.fromEnvironment ? "PROMOTION" : "RELEASE";
  const data = await t.ok<{ deploy: DeploymentView }>(token, DEPLOY, { input: { project: "demo", source, ...input } });
  return data.deploy;
}

let counter = 0;
/** A value no earlier deployment used, so every deploy really changes something. */
export function uniqueTag(prefix = "v9"): string {
  counter += 1;
  return `${prefix}.${counter}.${process.pid % 1000}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Deploys a "bad" change as jane and returns the good revision before it (a deployment of the
 * tenant-environment, so a valid rollback target) and the bad one. Defaults: demo/acme/production, api-gateway's image tag.
 */
export async function badRelease(
  t: TestServer,
  opts: { tenant?: string; environment?: string; service?: string; set?: Record<string, unknown>; project?: string } = {},
): Promise<{ good: string; bad: string }> {
  const tenant = opts.tenant ?? "acme";
  const environment = opts.environment ?? "production";
  const project = opts.project ?? "demo";
  const good = await currentRevision(t, tenant, environment, project);
  const bad = await deploy(t, tokenOf(t, "jane"), { project, tenant, environment, service: opts.service ?? "api-gateway", set: opts.set ?? { "image.tag": uniqueTag() } });
  return { good, bad: bad.revision };
}

// ------------------------------------------------------------------ rollbacks

/** A FULL rollback of demo/acme/production with a justification, with `overrides` applied. */
export function rollbackInput(overrides: Partial<RollbackInputVars>): RollbackInputVars {
  return { project: "demo", tenant: "acme", environment: "production", mode: "FULL", justification: "Bad image tag causing 500 errors", ...overrides };
}

export const TEST_JUSTIFICATION = "restoring the known-good revision";

/** The input with a justification, unless it has one. */
export function justified<T extends object>(input: T): T & { justification: string } {
  return { justification: TEST_JUSTIFICATION, ...input };
}

export function previewRollback(t: TestServer, token: string | null, input: Record<string, unknown>): Promise<GqlResult<{ previewRollback: PreviewView }>> {
  return t.gql<{ previewRollback: PreviewView }>(token, PREVIEW_ROLLBACK, { input });
}

export async function previewOk(t: TestServer, token: string, input: Record<string, unknown>): Promise<PreviewView> {
  return (await t.ok<{ previewRollback: PreviewView }>(token, PREVIEW_ROLLBACK, { input })).previewRollback;
}

/** requestRollback with exactly this input. */
export function requestRollback(t: TestServer, token: string | null, input: Record<string, unknown>, key?: string): Promise<GqlResult<{ requestRollback: RollbackRequestView }>> {
  return t.gql<{ requestRollback: RollbackRequestView }>(token, REQUEST_ROLLBACK, { input, key: key ?? null });
}

/** requestRollback of `rollbackInput(overrides)` that must succeed (PENDING or already executed). */
export async function mustRequest(t: TestServer, token: string, overrides: Partial<RollbackInputVars>, key?: string): Promise<RollbackRequestView> {
  return (await t.ok<{ requestRollback: RollbackRequestView }>(token, REQUEST_ROLLBACK, { input: rollbackInput(overrides), key: key ?? null })).requestRollback;
}

export type CompletedRequest = RollbackRequestView & { commitSha: string; commitMessage: string };

/** requestRollback (justified) that must execute at once, no approval needed: returns the COMPLETED request. */
export async function rollbackOk(t: TestServer, token: string, input: RollbackInputVars): Promise<CompletedRequest> {
  const r = (await t.ok<{ requestRollback: RollbackRequestView }>(token, REQUEST_ROLLBACK, { input: justified(input), key: null })).requestRollback;
  expect(r.state, `rollback ${JSON.stringify(input)} did not complete: ${r.error}`).toBe("COMPLETED");
  expect(r.commitSha).toMatch(/^[0-9a-f]{40}$/);
  return r as CompletedRequest;
}

/** A FULL rollback of demo/<tenant>/<environment> to its previous deployment (no approval needed outside production). */
export async function rollbackToPrevious(t: TestServer, token: string, tenant: string, environment: string): Promise<RollbackRequestView> {
  const [, previous] = await recentDeployments(t, token, tenant, environment, 2);
  const res = await requestRollback(t, token, { project: "demo", tenant, environment, mode: "FULL", targetSha: previous!.revision, justification: "bad release" });
  if (!res.data) throw new Error(`rollback failed: ${JSON.stringify(res.errors)}`);
  return res.data.requestRollback;
}

export function review(
  t: TestServer,
  token: string,
  id: string,
  decision: "APPROVE" | "REJECT",
  comment?: string,
): Promise<GqlResult<{ reviewRollbackRequest: RollbackRequestView }>> {
  return t.gql<{ reviewRollbackRequest: RollbackRequestView }>(token, REVIEW, { id, decision, comment: comment ?? null });
}

export async function mustReview(t: TestServer, token: string, id: string, decision: "APPROVE" | "REJECT", comment?: string): Promise<RollbackRequestView> {
  return (await t.ok<{ reviewRollbackRequest: RollbackRequestView }>(token, REVIEW, { id, decision, comment: comment ?? null })).reviewRollbackRequest;
}

export function retry(t: TestServer, token: string, id: string): Promise<GqlResult<{ retryRollbackExecution: RollbackRequestView }>> {
  return t.gql<{ retryRollbackExecution: RollbackRequestView }>(token, RETRY, { id });
}

export async function getRequest(t: TestServer, token: string, id: string): Promise<RollbackRequestView> {
  const data = await t.ok<{ rollbackRequest: RollbackRequestView | null }>(token, GET_REQUEST, { id });
  if (!data.rollbackRequest) throw new Error(`rollback request ${id} not visible`);
  return data.rollbackRequest;
}

/** What a refused write must leave as it was: the branch, the requests and acme/staging's history. */
export async function writeState(t: TestServer) {
  return {
    head: head(t),
    commits: commitCount(t),
    requests: await rollbackRequestCount(t, tokenOf(t, "alice")),
    history: (await fullHistory(t, tokenOf(t, "jane"), "acme", "staging")).map((d) => `${d.id}:${d.status}`),
  };
}

export async function rollbackRequestCount(t: TestServer, token: string, project = "demo"): Promise<number> {
  const data = await t.ok<{ rollbackRequests: { totalCount: number } }>(token, `query($p:String!){ rollbackRequests(project:$p, first: 0){ totalCount } }`, { p: project });
  return data.rollbackRequests.totalCount;
}

// ------------------------------------------------------------------ approvals and break-glass

export async function setPolicy(t: TestServer, environment: string, requiredApprovals: number, allowSelfApproval: boolean, project = "demo") {
  const data = await t.ok<{ setApprovalPolicy: { environment: string; requiredApprovals: number; allowSelfApproval: boolean } }>(tokenOf(t, "alice"), SET_POLICY, {
    p: project,
    e: environment,
    n: requiredApprovals,
    self: allowSelfApproval,
  });
  return data.setApprovalPolicy;
}

export async function openBreakGlass(
  t: TestServer,
  token: string,
  justification = "INC-4711: checkout is down, approvers asleep",
  minutes?: number,
  project = "demo",
): Promise<BreakGlassView> {
  return (await t.ok<{ openBreakGlassSession: BreakGlassView }>(token, OPEN_BREAK_GLASS, { p: project, j: justification, m: minutes ?? null })).openBreakGlassSession;
}

export async function closeBreakGlass(t: TestServer, token: string, id: string): Promise<BreakGlassView> {
  return (await t.ok<{ closeBreakGlassSession: BreakGlassView }>(token, CLOSE_BREAK_GLASS, { id })).closeBreakGlassSession;
}

// ------------------------------------------------------------------ audit

/** The project's newest audit events (up to 500), newest first. */
export async function auditEvents(t: TestServer, opts: { project?: string; breakGlassOnly?: boolean; token?: string } = {}): Promise<{ nodes: AuditRow[]; totalCount: number }> {
  const data = await t.ok<{ auditEvents: { nodes: AuditRow[]; totalCount: number } }>(
    opts.token ?? tokenOf(t, "alice"),
    `query($p: String!, $bg: Boolean) { auditEvents(project: $p, first: 500, breakGlassOnly: $bg) { totalCount nodes { ${AUDIT_FIELDS} } } }`,
    { p: opts.project ?? "demo", bg: opts.breakGlassOnly ?? false },
  );
  return data.auditEvents;
}

/** Audit events about one subject, oldest first. */
export async function auditOf(t: TestServer, subjectId: string, project = "demo"): Promise<AuditRow[]> {
  return (await auditEvents(t, { project })).nodes.filter((e) => e.subjectId === subjectId).reverse();
}

export async function auditCount(t: TestServer, token: string, project = "demo"): Promise<number> {
  const data = await t.ok<{ auditEvents: { totalCount: number } }>(token, `query($p: String!) { auditEvents(project: $p, first: 1) { totalCount } }`, { p: project });
  return data.auditEvents.totalCount;
}

// ------------------------------------------------------------------ sync

export async function syncOf(t: TestServer, token: string, tenant: string, environment: string): Promise<{ currentRevision: string; sync: SyncView }> {
  const data = await t.ok<{ tenantEnvironment: { currentRevision: string; sync: SyncView } }>(
    token,
    `query($t:String!,$e:String!){ tenantEnvironment(project:"demo",tenant:$t,environment:$e){ currentRevision sync{ ${SYNC_FIELDS} } } }`,
    { t: tenant, e: environment },
  );
  return data.tenantEnvironment;
}
