import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "graphql-ws";
import { expect } from "vitest";
import WebSocket from "ws";
import { templateDir, type GqlResult, type TestServer } from "./harness.js";

/** Helpers shared by the issue 2 test files (test/issue2-*.test.ts). */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const TENANTS = ["acme", "globex"] as const;
export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export const SERVICES = ["api-gateway", "auth", "billing", "web", "worker"] as const;

export type GqlError = NonNullable<GqlResult["errors"]>[number];

// ------------------------------------------------------------------ GraphQL documents

export const DEPLOYMENT_FIELDS = `
  id revision shortRevision deployedAt summary source status
  author { id email name }
  changes { service file path kind before after }
  rollbackRequest { id state }
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

export const REQUEST_FIELDS = `
  id state mode project tenant environment targetSha baseSha service selectedFields affectedServices
  justification requestedBy { email } approvals requiredApprovals breakGlass commitSha commitMessage error
  createdAt updatedAt
`;

export const REQUEST_ROLLBACK = `
  mutation Request($input: RollbackInput!) { requestRollback(input: $input) { ${REQUEST_FIELDS} } }
`;

export const PREVIEW_ROLLBACK = `
  query Preview($input: RollbackInput!) {
    previewRollback(input: $input) {
      mode targetSha baseSha blastRadius approvalRequired requiredApprovals breakGlassActive
      impact { services bindings variables fields files }
      environmentChanges { service file path kind before after }
      services { service changes { service file path kind before after } files { path kind patch } }
    }
  }
`;

export const COMPARE = `
  query Compare($p: String!, $t: String!, $e: String!, $target: String!, $base: String) {
    compareRevisions(project: $p, tenant: $t, environment: $e, target: $target, base: $base) {
      tenant environment base target
      impact { services bindings variables fields files }
      environmentChanges { service file path kind before after }
      services { service changes { service file path kind before after } files { path kind patch } }
    }
  }
`;

export const DEPLOY = `
  mutation Deploy($input: DeployInput!) { deploy(input: $input) { ${DEPLOYMENT_FIELDS} } }
`;

export const ROLLBACK_UPDATES = `
  subscription Updates($p: String!, $t: String, $e: String, $id: ID) {
    rollbackRequestUpdated(project: $p, tenant: $t, environment: $e, id: $id) { id state tenant environment commitSha }
  }
`;

export const DEPLOYMENTS_RECORDED = `
  subscription Recorded($p: String!, $t: String, $e: String) {
    deploymentRecorded(project: $p, tenant: $t, environment: $e) { id revision source status summary author { email } }
  }
`;

// ------------------------------------------------------------------ types as the client sees them

export interface FieldChangeView {
  service: string | null;
  file: string;
  path: string;
  kind: string;
  before: unknown;
  after: unknown;
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
  approvals: number;
  requiredApprovals: number;
  breakGlass: boolean;
  commitSha: string | null;
  commitMessage: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ServiceDiffView {
  service: string;
  changes: FieldChangeView[];
  files: { path: string; kind: string; patch: string }[];
}

export interface ImpactView {
  services: number;
  bindings: number;
  variables: number;
  fields: number;
  files: number;
}

export interface PreviewView {
  mode: string;
  targetSha: string;
  baseSha: string;
  blastRadius: string;
  approvalRequired: boolean;
  requiredApprovals: number;
  breakGlassActive: boolean;
  impact: ImpactView;
  environmentChanges: FieldChangeView[];
  services: ServiceDiffView[];
}

export interface ComparisonView {
  tenant: string;
  environment: string;
  base: string;
  target: string;
  impact: ImpactView;
  environmentChanges: FieldChangeView[];
  services: ServiceDiffView[];
}

// ------------------------------------------------------------------ queries

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
    const page: HistoryPage = await historyPage(t, token, tenant, environment, { first: args.pageSize ?? 50, after, source: args.source, status: args.status, project: args.project });
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
  throw new Error("history paging did not end");
}

export async function requestRollback(t: TestServer, token: string | null, input: Record<string, unknown>): Promise<GqlResult<{ requestRollback: RollbackRequestView }>> {
  return t.gql<{ requestRollback: RollbackRequestView }>(token, REQUEST_ROLLBACK, { input });
}

export async function preview(t: TestServer, token: string | null, input: Record<string, unknown>): Promise<GqlResult<{ previewRollback: PreviewView }>> {
  return t.gql<{ previewRollback: PreviewView }>(token, PREVIEW_ROLLBACK, { input });
}

export async function rollbackRequestCount(t: TestServer, token: string, project = "demo"): Promise<number> {
  const data = await t.ok<{ rollbackRequests: { totalCount: number } }>(token, `query($p:String!){ rollbackRequests(project:$p, first: 0){ totalCount } }`, { p: project });
  return data.rollbackRequests.totalCount;
}

// ------------------------------------------------------------------ errors

/** No error of a response carries a stack trace, an exception object or an internal path. */
export function expectNoInternals(result: GqlResult<unknown>): void {
  for (const error of result.errors ?? []) {
    const ext = error.extensions ?? {};
    expect(ext).not.toHaveProperty("stacktrace");
    expect(ext).not.toHaveProperty("exception");
    const text = JSON.stringify(error);
    expect(text).not.toMatch(/\n\s+at\s/);
    expect(text).not.toMatch(/\bat\s+\S+\s+\(/);
    expect(text).not.toMatch(/node_modules|\/work\/|\.ts:\d+|\.js:\d+/);
  }
}

/**
 * The response is exactly one error with this code and status (and message, when given: a string
 * must match exactly, a RegExp must match), and no data.
 */
export function expectError(result: GqlResult<unknown>, code: string, status: number, message?: string | RegExp): GqlError {
  expect(result.errors, `expected a ${code} error, got ${JSON.stringify(result)}`).toBeDefined();
  expect(result.errors).toHaveLength(1);
  const error = result.errors![0]!;
  expect(error.extensions).toMatchObject({ code, status });
  if (typeof message === "string") expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
  // No data, or (for a nullable field) null.
  if (result.data) for (const value of Object.values(result.data as Record<string, unknown>)) expect(value).toBeNull();
  expectNoInternals(result);
  return error;
}

// ------------------------------------------------------------------ Git

export function head(t: TestServer, project = "demo"): string {
  return t.git(project, "rev-parse", "refs/heads/main").trim();
}

/** The tree id of a directory at a revision (equal ids: equal content, byte for byte). */
export function treeId(t: TestServer, revision: string, dir: string, project = "demo"): string {
  return t.git(project, "rev-parse", `${revision}:${dir}`).trim();
}

export function commitMessage(t: TestServer, revision: string, project = "demo"): string {
  // %B is the raw body; git appends one newline.
  return t.git(project, "show", "-s", "--format=%B", revision).replace(/\n+$/, "");
}

export function changedPaths(t: TestServer, from: string, to: string, project = "demo"): string[] {
  return t
    .git(project, "diff", "--name-only", from, to)
    .split("\n")
    .filter(Boolean)
    .sort();
}

export function fileAt(t: TestServer, revision: string, file: string, project = "demo"): string {
  return t.git(project, "show", `${revision}:${file}`);
}

export function isAncestor(t: TestServer, ancestor: string, descendant: string, project = "demo"): boolean {
  try {
    t.git(project, "merge-base", "--is-ancestor", ancestor, descendant);
    return true;
  } catch {
    return false;
  }
}

export function commitCount(t: TestServer, project = "demo"): number {
  return Number(t.git(project, "rev-list", "--count", "refs/heads/main").trim());
}

/** Trailers (`Key: Value` lines of the last paragraph) of a commit message. */
export function trailersOf(message: string): Record<string, string> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  const out: Record<string, string> = {};
  for (const line of paragraphs[paragraphs.length - 1]!.split("\n")) {
    const m = /^([A-Za-z][A-Za-z0-9 -]*):\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Tree ids of every tenant-environment directory at a revision. */
export function tenantEnvironmentTrees(t: TestServer, revision: string, project = "demo"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tenant of TENANTS) for (const env of ENVIRONMENTS) out[`${tenant}/${env}`] = treeId(t, revision, `tenants/${tenant}/${env}`, project);
  return out;
}

// ------------------------------------------------------------------ subscriptions

export interface Subscription<T> {
  items: T[];
  errors: unknown[];
  /** Resolves with the items once `predicate` holds for the list received so far. */
  until(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the first error the subscription reports (in a payload or as its end). */
  failed(timeoutMs?: number): Promise<GqlError>;
  dispose(): void;
}

/**
 * Subscribes and records every payload. Unlike `collect`, it does not assume the server is
 * subscribed after a pause: callers make it provable by waiting for a warm-up event (`until`).
 */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>, field: string): Subscription<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data && value.data[field] !== undefined) items.push(value.data[field] as T);
        notify();
      },
      error: (err) => {
        errors.push(...(Array.isArray(err) ? err : [err]));
        notify();
      },
      complete: () => {
        notify();
      },
    },
  );
  const wait = <R>(check: () => R | undefined, timeoutMs: number, what: string): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const attempt = () => {
        const r = check();
        if (r !== undefined) {
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`${what}; got ${JSON.stringify(items)}; errors ${JSON.stringify(errors)}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });
  return {
    items,
    errors,
    until: (predicate, timeoutMs = 60_000) => wait(() => (predicate(items) ? [...items] : undefined), timeoutMs, "subscription condition not met"),
    failed: (timeoutMs = 30_000) => wait(() => (errors.length > 0 ? (errors[0] as GqlError) : undefined), timeoutMs, "subscription reported no error"),
    dispose,
  };
}

/**
 * Proves a subscription is live: runs `trigger` (which must publish an event the subscription
 * matches) until `seen` holds. The server registers a subscription asynchronously, so the first
 * trigger may come too early; repeating it is what makes this independent of timing.
 */
export async function warmUp<T>(sub: Subscription<T>, trigger: (attempt: number) => Promise<unknown>, seen: (items: T[]) => boolean, attempts = 20): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await trigger(attempt);
    try {
      await sub.until(seen, 3_000);
      return;
    } catch {
      // not subscribed yet: publish again
    }
  }
  throw new Error(`subscription never delivered a warm-up event; errors: ${JSON.stringify(sub.errors)}`);
}

/** The close code of a graphql-ws client's socket, once it closes. */
export function closeCode(client: Client, timeoutMs = 30_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the socket did not close")), timeoutMs);
    client.on("closed", (event) => {
      clearTimeout(timer);
      resolve((event as { code: number }).code);
    });
  });
}

/** Resolves once the client's connection is acknowledged by the server. */
export function connected(client: Client, timeoutMs = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the socket did not connect")), timeoutMs);
    client.on("connected", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function wsClient(url: string, token: string | null): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

// ------------------------------------------------------------------ polling (never a timing assertion)

/** Re-evaluates `probe` until it returns a value other than undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ------------------------------------------------------------------ processes

export interface ServerProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Resolves with the first stdout JSON log line whose msg is `msg`. */
  logLine(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(): void;
}

/** Environment for a spawned server: the caller's variables that would change storage are cleared. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: "UTC", DATABASE_URL: "", REDIS_URL: "", GIT_REMOTE: "", PG_SCHEMA: "", EXECUTION_PAUSE_AT: "" };
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

/** Runs a built entry point (dist/...) as its own process, recording its output line by line. */
export function spawnNode(script: string, args: string[], env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  const lineReader = (sink: string[]) => {
    let buffer = "";
    return (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      sink.push(...lines);
      for (const l of [...listeners]) l();
    };
  };
  child.stdout!.on("data", lineReader(stdout));
  child.stderr!.on("data", lineReader(stderr));
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      for (const l of [...listeners]) l();
      resolve(code ?? signal ?? -1);
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout,
    stderr,
    exited,
    logLine(msg, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of stdout) {
            if (!line.startsWith("{")) continue;
            try {
              const parsed = JSON.parse(line) as Record<string, unknown>;
              if (parsed.msg === msg) {
                listeners.delete(check);
                clearTimeout(timer);
                resolve(parsed);
                return;
              }
            } catch {
              // not a log line
            }
          }
          if (done) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process ended before logging "${msg}"; stdout: ${stdout.join("\n")}; stderr: ${stderr.join("\n")}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${msg}" log line; stdout: ${stdout.join("\n")}; stderr: ${stderr.join("\n")}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    kill() {
      if (!done && child.pid) child.kill("SIGKILL");
    },
  };
}

/** A fresh directory holding a copy of the demo-seeded template. */
export function copyOfTemplate(prefix = "rbs-issue2-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cpSync(templateDir(), dir, { recursive: true });
  return dir;
}

/** Raw POST to /graphql with any Authorization header. */
export async function rawGraphql(url: string, body: unknown, authorization?: string): Promise<{ status: number; json: GqlResult<unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as GqlResult<unknown> };
}
