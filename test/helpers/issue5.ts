import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Client } from "graphql-ws";
import { TokenKind } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import type { TestServer } from "./harness.js";

/** The built simulator (npm test runs tsc first; when iterating, run `npx tsc -p tsconfig.json`). */
export const AGENT_MAIN = fileURLToPath(new URL("../../dist/src/agent/main.js", import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without blocking the event loop (the server under test lives in this process,
 * so a synchronous child would deadlock against it).
 */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (child.pid && options.onSpawn) options.onSpawn(child.pid);
  });
}

/** A git environment free of the machine's configuration, prompts and credential helpers. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    LANG: "C",
    LC_ALL: "C",
    ...extra,
  };
}

export function git(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return run("git", args, { cwd: options.cwd, env: gitEnv(options.env) });
}

/** http://127.0.0.1:<port>/git/<project>.git, with the token as password when given. */
export function repoUrl(t: TestServer, project: string, token?: string): string {
  const u = new URL(`${t.url}/git/${project}.git`);
  if (token) {
    u.username = "x";
    u.password = token;
  }
  return u.toString();
}

const scratch: string[] = [];
export function scratchDir(prefix = "rbs-i5-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
export function removeScratch(): void {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function agentToken(t: TestServer, project = "demo"): Promise<string> {
  const issued = await t.app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.AGENT, projectSlug: project, label: "issue5 test" });
  return issued.token;
}

/** Runs the simulator once (or with --interval when given in args) as a child process. */
export function runAgent(t: TestServer, token: string, args: string[], options: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
  return run(process.execPath, [AGENT_MAIN, "--server", t.url, "--token", token, ...args], {
    env: gitEnv({ TZ: "UTC" }),
    timeoutMs: options.timeoutMs,
    onSpawn: options.onSpawn,
  });
}

/** One raw HTTP request: the path goes out exactly as given (no client-side normalization of `..`). */
export function rawRequest(
  t: TestServer,
  rawPath: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: t.server.port, path: rawPath, method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export function basic(token: string, user = "x"): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;
}

export async function projectId(t: TestServer, slug: string): Promise<string> {
  return (await t.app.db.manager.findOneByOrFail(Project, { slug })).id;
}

export interface Watch<T> {
  items: T[];
  errors: unknown[];
  /** Resolves with the first item (arrived or arriving) that matches. */
  waitFor(predicate: (item: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  dispose(): void;
}

/**
 * A subscription that records every event. `live` publishes a probe event on the app's real event
 * bus until the subscription receives it, so the test knows the subscription is in place before
 * it acts (no sleeping and hoping). Probe events are dropped from `items`.
 */
export async function watch<T extends Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  options: { probe: () => void; isProbe: (item: T) => boolean; timeoutMs?: number },
): Promise<Watch<T>> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters: { predicate: (item: T) => boolean; resolve: (item: T) => void }[] = [];
  let probed = false;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        const item = value.data as T | undefined;
        if (!item) return;
        if (options.isProbe(item)) {
          probed = true;
          return;
        }
        items.push(item);
        for (const w of [...waiters]) {
          if (w.predicate(item)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(item);
          }
        }
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!probed) {
    if (errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
    if (Date.now() > deadline) throw new Error("subscription never became live");
    options.probe();
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    items,
    errors,
    dispose,
    waitFor(predicate, what, timeoutMs = 30_000) {
      const found = items.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} event; got ${JSON.stringify(items)} errors ${JSON.stringify(errors)}`)), timeoutMs);
        waiters.push({
          predicate,
          resolve: (item) => {
            clearTimeout(timer);
            resolve(item);
          },
        });
      });
    },
  };
}

export const SYNC_SUBSCRIPTION = `subscription($p:String!,$t:String,$e:String){ syncStatusChanged(project:$p,tenant:$t,environment:$e){ tenant environment revision state agent health lastReportAt drift{ kind name field desired actual } } }`;
export const DEPLOYMENT_SUBSCRIPTION = `subscription($p:String!,$t:String,$e:String){ deploymentRecorded(project:$p,tenant:$t,environment:$e){ id revision status source } }`;

/** Subscribes to syncStatusChanged of one tenant-environment, live before it returns. */
export async function watchSync(t: TestServer, client: Client, tenant: string, environment: string) {
  const pid = await projectId(t, "demo");
  return watch<{ syncStatusChanged: SyncEvent }>(client, SYNC_SUBSCRIPTION, { p: "demo", t: tenant, e: environment }, {
    probe: () =>
      t.app.events.syncStatusChanged({ projectId: pid, tenant, environment, revision: "probe", state: "UNKNOWN", agent: "NEVER_SEEN", lastReportAt: null, health: null, drift: [] }),
    isProbe: (item) => item.syncStatusChanged.revision === "probe",
  });
}

/** Subscribes to deploymentRecorded of one tenant-environment, live before it returns. */
export async function watchDeployments(t: TestServer, client: Client, tenant: string, environment: string) {
  const pid = await projectId(t, "demo");
  return watch<{ deploymentRecorded: { id: string; revision: string; status: string; source: string } }>(
    client,
    DEPLOYMENT_SUBSCRIPTION,
    { p: "demo", t: tenant, e: environment },
    {
      probe: () =>
        t.app.events.bus.publish(`deploymentRecorded:${pid}`, {
          tenant,
          environment,
          deployment: { id: "probe", revision: "probe", status: "PENDING", source: "RELEASE", projectId: pid } as never,
        }),
      isProbe: (item) => item.deploymentRecorded.revision === "probe",
    },
  );
}

export interface SyncEvent {
  tenant: string;
  environment: string;
  revision: string | null;
  state: string;
  agent: string;
  health: string | null;
  lastReportAt: string | null;
  drift: { kind: string; name: string; field: string | null; desired: unknown; actual: unknown }[];
}

export interface SyncView {
  revision: string | null;
  state: string;
  agent: string;
  health: string | null;
  lastReportAt: string | null;
  drift: { kind: string; name: string; field: string | null; desired: unknown; actual: unknown }[];
}

export async function syncOf(t: TestServer, token: string, tenant: string, environment: string): Promise<{ currentRevision: string; sync: SyncView }> {
  const data = await t.ok<{ tenantEnvironment: { currentRevision: string; sync: SyncView } }>(
    token,
    `query($t:String!,$e:String!){ tenantEnvironment(project:"demo",tenant:$t,environment:$e){ currentRevision sync{ revision state agent health lastReportAt drift{ kind name field desired actual } } } }`,
    { t: tenant, e: environment },
  );
  return data.tenantEnvironment;
}

export interface DeploymentRow {
  id: string;
  revision: string;
  status: string;
  source: string;
}

export async function history(t: TestServer, token: string, tenant: string, environment: string, first = 10): Promise<DeploymentRow[]> {
  const data = await t.ok<{ deploymentHistory: { nodes: DeploymentRow[] } }>(
    token,
    `query($t:String!,$e:String!,$n:Int){ deploymentHistory(project:"demo",tenant:$t,environment:$e,first:$n){ nodes{ id revision status source } } }`,
    { t: tenant, e: environment, n: first },
  );
  return data.deploymentHistory.nodes;
}

/** A FULL rollback of demo/<tenant>/<environment> to its previous deployment (staging needs no approval). */
export async function rollbackToPrevious(t: TestServer, token: string, tenant: string, environment: string) {
  const [, previous] = await history(t, token, tenant, environment, 2);
  const data = await t.ok<{ requestRollback: { id: string; state: string; commitSha: string | null } }>(
    token,
    `mutation($i:RollbackInput!){ requestRollback(input:$i){ id state commitSha } }`,
    { i: { project: "demo", tenant, environment, mode: "FULL", targetSha: previous!.revision, justification: "issue 5 test: bad release" } },
  );
  return data.requestRollback;
}

export async function deploy(t: TestServer, token: string, tenant: string, environment: string, service: string, set: Record<string, unknown>): Promise<DeploymentRow> {
  const data = await t.ok<{ deploy: DeploymentRow }>(
    token,
    `mutation($i:DeployInput!){ deploy(input:$i){ id revision status source } }`,
    { i: { project: "demo", tenant, environment, service, set } },
  );
  return data.deploy;
}

export const REPORT = `mutation($i:SyncReportInput!){ reportSyncStatus(input:$i){ revision state agent health lastReportAt drift{ kind name field desired actual } } }`;

/** Polls until `check` returns a value (not undefined), or fails after the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
