/**
 * Shared helpers of the issue-4 tests (approvals, break-glass, audit, access, subscriptions).
 * Everything goes through the real server over HTTP/WebSocket; only `lockBranch` and the
 * audit-tampering helpers touch the data directory directly, as the tests require.
 */
import { spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { GqlResult, TestServer } from "./harness.js";

export const EMAIL = {
  jane: "jane@example.com", // DEPLOYER in demo, pro, starter
  bob: "bob@example.com", // APPROVER
  carol: "carol@example.com", // APPROVER
  alice: "alice@example.com", // ADMIN
  victor: "victor@example.com", // VIEWER
  mallory: "mallory@example.com", // DEPLOYER in starter only: demo belongs to another organization for her
} as const;
export type Person = keyof typeof EMAIL;

export function tokenOf(t: TestServer, who: Person): string {
  const token = t.tokens[EMAIL[who]];
  if (!token) throw new Error(`no demo token for ${who}`);
  return token;
}

export const REQUEST_FIELDS = `
  id state mode project tenant environment targetSha baseSha service selectedFields affectedServices
  justification requestedBy { email } createdAt updatedAt
  reviews { reviewer { email } decision comment createdAt }
  approvals requiredApprovals breakGlass commitSha commitMessage error
  notes { author { email } text createdAt }
`;

export interface Req {
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

export interface RollbackInputVars {
  project?: string;
  tenant?: string;
  environment?: string;
  mode?: "FULL" | "SERVICE" | "FIELD";
  targetSha?: string | null;
  service?: string | null;
  fields?: string[] | null;
  justification?: string | null;
}

export const REQUEST_ROLLBACK = `mutation($input: RollbackInput!, $key: String) { requestRollback(input: $input, idempotencyKey: $key) { ${REQUEST_FIELDS} } }`;
export const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!, $comment: String) { reviewRollbackRequest(id: $id, decision: $decision, comment: $comment) { ${REQUEST_FIELDS} } }`;
export const RETRY = `mutation($id: ID!) { retryRollbackExecution(id: $id) { ${REQUEST_FIELDS} } }`;
export const ADD_NOTE = `mutation($id: ID!, $text: String!) { addRollbackNote(id: $id, text: $text) { ${REQUEST_FIELDS} } }`;
export const GET_REQUEST = `query($id: ID!) { rollbackRequest(id: $id) { ${REQUEST_FIELDS} } }`;
export const SET_POLICY = `mutation($p: String!, $e: String!, $n: Int!, $self: Boolean!) {
  setApprovalPolicy(project: $p, environment: $e, requiredApprovals: $n, allowSelfApproval: $self) { environment requiredApprovals allowSelfApproval } }`;
export const OPEN_BREAK_GLASS = `mutation($p: String!, $j: String!, $m: Int) {
  openBreakGlassSession(project: $p, justification: $j, durationMinutes: $m) { id user { email } justification openedAt expiresAt closedAt } }`;
export const CLOSE_BREAK_GLASS = `mutation($id: ID!) { closeBreakGlassSession(id: $id) { id user { email } justification openedAt expiresAt closedAt } }`;
export const SUBSCRIBE_REQUESTS = `subscription($p: String!, $t: String, $e: String, $id: ID) {
  rollbackRequestUpdated(project: $p, tenant: $t, environment: $e, id: $id) { ${REQUEST_FIELDS} } }`;

export interface BreakGlass {
  id: string;
  user: { email: string };
  justification: string;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
}

export function rollbackInput(input: RollbackInputVars): Required<Pick<RollbackInputVars, "project" | "tenant" | "environment" | "mode">> & RollbackInputVars {
  return { project: "demo", tenant: "acme", environment: "production", mode: "FULL", justification: "Bad image tag causing 500 errors", ...input };
}

export function requestRollback(t: TestServer, token: string, input: RollbackInputVars, key?: string): Promise<GqlResult<{ requestRollback: Req }>> {
  return t.gql<{ requestRollback: Req }>(token, REQUEST_ROLLBACK, { input: rollbackInput(input), key: key ?? null });
}

/** requestRollback that must succeed. */
export async function mustRequest(t: TestServer, token: string, input: RollbackInputVars, key?: string): Promise<Req> {
  return (await t.ok<{ requestRollback: Req }>(token, REQUEST_ROLLBACK, { input: rollbackInput(input), key: key ?? null })).requestRollback;
}

export function review(t: TestServer, token: string, id: string, decision: "APPROVE" | "REJECT", comment?: string): Promise<GqlResult<{ reviewRollbackRequest: Req }>> {
  return t.gql<{ reviewRollbackRequest: Req }>(token, REVIEW, { id, decision, comment: comment ?? null });
}

export async function mustReview(t: TestServer, token: string, id: string, decision: "APPROVE" | "REJECT", comment?: string): Promise<Req> {
  return (await t.ok<{ reviewRollbackRequest: Req }>(token, REVIEW, { id, decision, comment: comment ?? null })).reviewRollbackRequest;
}

export function retry(t: TestServer, token: string, id: string): Promise<GqlResult<{ retryRollbackExecution: Req }>> {
  return t.gql<{ retryRollbackExecution: Req }>(token, RETRY, { id });
}

export async function getRequest(t: TestServer, token: string, id: string): Promise<Req> {
  const data = await t.ok<{ rollbackRequest: Req | null }>(token, GET_REQUEST, { id });
  if (!data.rollbackRequest) throw new Error(`rollback request ${id} not visible`);
  return data.rollbackRequest;
}

export async function setPolicy(t: TestServer, environment: string, requiredApprovals: number, allowSelfApproval: boolean, project = "demo") {
  const data = await t.ok<{ setApprovalPolicy: { environment: string; requiredApprovals: number; allowSelfApproval: boolean } }>(tokenOf(t, "alice"), SET_POLICY, {
    p: project,
    e: environment,
    n: requiredApprovals,
    self: allowSelfApproval,
  });
  return data.setApprovalPolicy;
}

export async function openBreakGlass(t: TestServer, token: string, justification = "INC-4711: checkout is down, approvers asleep", minutes?: number, project = "demo"): Promise<BreakGlass> {
  return (await t.ok<{ openBreakGlassSession: BreakGlass }>(token, OPEN_BREAK_GLASS, { p: project, j: justification, m: minutes ?? null })).openBreakGlassSession;
}

export async function closeBreakGlass(t: TestServer, token: string, id: string): Promise<BreakGlass> {
  return (await t.ok<{ closeBreakGlassSession: BreakGlass }>(token, CLOSE_BREAK_GLASS, { id })).closeBreakGlassSession;
}

// ------------------------------------------------------------------ deployments and Git

let counter = 0;
/** A value no earlier deployment used, so every deploy really changes something. */
export function uniqueTag(prefix = "v9"): string {
  counter += 1;
  return `${prefix}.${counter}.${process.pid % 1000}-${Math.random().toString(36).slice(2, 7)}`;
}

export async function deploy(
  t: TestServer,
  token: string,
  target: { project?: string; tenant: string; environment: string; service: string; set: Record<string, unknown> },
): Promise<string> {
  const data = await t.ok<{ deploy: { revision: string } }>(
    token,
    `mutation($input: DeployInput!) { deploy(input: $input) { revision } }`,
    { input: { project: target.project ?? "demo", tenant: target.tenant, environment: target.environment, service: target.service, set: target.set } },
  );
  return data.deploy.revision;
}

export async function currentRevision(t: TestServer, tenant: string, environment: string, project = "demo"): Promise<string> {
  const data = await t.ok<{ tenantEnvironment: { currentRevision: string } }>(
    tokenOf(t, "alice"),
    `query($p: String!, $t: String!, $e: String!) { tenantEnvironment(project: $p, tenant: $t, environment: $e) { currentRevision } }`,
    { p: project, t: tenant, e: environment },
  );
  return data.tenantEnvironment.currentRevision;
}

/**
 * Deploys a "bad" change as jane and returns the good revision before it (a deployment of the
 * tenant-environment, so a valid rollback target) and the bad one.
 */
export async function badRelease(
  t: TestServer,
  opts: { tenant?: string; environment?: string; service?: string; set?: Record<string, unknown>; project?: string } = {},
): Promise<{ good: string; bad: string }> {
  const tenant = opts.tenant ?? "acme";
  const environment = opts.environment ?? "production";
  const project = opts.project ?? "demo";
  const good = await currentRevision(t, tenant, environment, project);
  const bad = await deploy(t, tokenOf(t, "jane"), {
    project,
    tenant,
    environment,
    service: opts.service ?? "api-gateway",
    set: opts.set ?? { "image.tag": uniqueTag() },
  });
  return { good, bad };
}

export function head(t: TestServer, project = "demo"): string {
  return t.git(project, "rev-parse", "refs/heads/main").trim();
}

/** Commits on main whose message carries this rollback request id. */
export function commitsOf(t: TestServer, requestId: string, project = "demo"): string[] {
  return t
    .git(project, "log", "--format=%H", "--fixed-strings", `--grep=Rollback Request ID: ${requestId}`, "refs/heads/main")
    .split("\n")
    .filter(Boolean);
}

/** Git object id of a path at a revision ("" when it does not exist). */
export function entryAt(t: TestServer, revision: string, entryPath: string, project = "demo"): string {
  try {
    return t.git(project, "rev-parse", `${revision}:${entryPath}`).trim();
  } catch {
    return "";
  }
}

export function fileAt(t: TestServer, revision: string, filePath: string, project = "demo"): string {
  return t.git(project, "show", `${revision}:${filePath}`);
}

/** Makes every branch update fail, as a Git write failure during execution. */
export function lockBranch(t: TestServer, project = "demo"): string {
  const lock = path.join(t.repoPath(project), "refs", "heads", "main.lock");
  writeFileSync(lock, "");
  return lock;
}

export function unlockBranch(t: TestServer, project = "demo"): void {
  const lock = path.join(t.repoPath(project), "refs", "heads", "main.lock");
  if (existsSync(lock)) rmSync(lock);
}

// ------------------------------------------------------------------ errors

export interface ErrorShape {
  message: string;
  code?: string;
  status?: number;
  extensions?: Record<string, unknown>;
}

export function errorOf(res: GqlResult<unknown>): ErrorShape {
  const e = res.errors?.[0];
  if (!e) throw new Error(`expected an error, got data ${JSON.stringify(res.data)}`);
  return { message: e.message, code: e.extensions?.code, status: e.extensions?.status, extensions: e.extensions };
}

/** Asserts the response failed with this code/status (and message, when given). */
export function expectError(res: GqlResult<unknown>, code: string, status: number, message?: string | RegExp): ErrorShape {
  const err = errorOf(res);
  expect({ code: err.code, status: err.status }, `error was ${JSON.stringify(res.errors)}`).toEqual({ code, status });
  if (typeof message === "string") expect(err.message).toBe(message);
  else if (message) expect(err.message).toMatch(message);
  return err;
}

// ------------------------------------------------------------------ audit

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

export const AUDIT_FIELDS = `id at actor { email } action breakGlass subjectId details hash`;

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

// ------------------------------------------------------------------ CLI

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/, made by `npm test`'s tsc step) against the test server's data directory. */
export function runCli(t: TestServer, args: string[]): Promise<CliResult> {
  const cli = path.resolve("dist/src/cli/main.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npm run build)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, DATA_DIR: t.dataDir, DATABASE_URL: "", REDIS_URL: "", GIT_REMOTE: "", PG_SCHEMA: "", LOG_LEVEL: "error", SEED: "none" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
