import { applyPatch, parsePatch, reversePatch } from "diff";
import { expect } from "vitest";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import type { Actor } from "../../src/services/actor.js";
import type { GqlResult, TestServer } from "./harness.js";

/**
 * Helpers of the issue 3 golden tests (selective rollback). Everything goes through the real
 * server (GraphQL over HTTP) or the real bare repositories (the git CLI); the only in-process calls
 * are the ones the brief allows to build history the API cannot make (importFiles of hand-written
 * files, a new tenant, an organization's flags).
 */

export const JANE = "jane@example.com";
export const ALICE = "alice@example.com";

export const PREVIEW = `query($input: RollbackInput!) {
  previewRollback(input: $input) {
    mode targetSha baseSha headSha blastRadius approvalRequired requiredApprovals affectedServices
    services { service changes { service file path kind before after selector } files { path kind patch } }
    environmentChanges { service file path kind before after selector }
    environmentFiles { path kind patch }
    impact { services bindings variables fields files }
  }
}`;

export const REQUEST = `mutation($input: RollbackInput!, $key: String) {
  requestRollback(input: $input, idempotencyKey: $key) {
    id state mode service selectedFields affectedServices targetSha baseSha commitSha commitMessage error
  }
}`;

export const DEPLOY = `mutation($input: DeployInput!) { deploy(input: $input) { id revision source status } }`;

export const HISTORY = `query($p: String!, $t: String!, $e: String!, $n: Int) {
  deploymentHistory(project: $p, tenant: $t, environment: $e, first: $n) {
    totalCount
    nodes { revision source status summary rollbackRequest { id } changes { service file path kind before after } }
  }
}`;

export const REQUESTS = `query($p: String!) { rollbackRequests(project: $p, first: 100) { totalCount nodes { id state } } }`;

export interface FieldChangeOut {
  service: string | null;
  file: string;
  path: string;
  kind: "ADDED" | "REMOVED" | "MODIFIED";
  before: unknown;
  after: unknown;
  selector?: string | null;
}

export interface FileDiffOut {
  path: string;
  kind: "ADDED" | "REMOVED" | "MODIFIED";
  patch: string;
}

export interface PreviewOut {
  mode: string;
  targetSha: string;
  baseSha: string;
  headSha: string;
  blastRadius: string;
  approvalRequired: boolean;
  requiredApprovals: number;
  affectedServices: string[];
  services: { service: string; changes: FieldChangeOut[]; files: FileDiffOut[] }[];
  environmentChanges: FieldChangeOut[];
  environmentFiles: FileDiffOut[];
  impact: { services: number; bindings: number; variables: number; fields: number; files: number };
}

export interface RequestOut {
  id: string;
  state: string;
  mode: string;
  service: string | null;
  selectedFields: string[];
  affectedServices: string[];
  targetSha: string;
  baseSha: string;
  commitSha: string | null;
  commitMessage: string | null;
  error: string | null;
}

export interface DeploymentOut {
  revision: string;
  source: string;
  status: string;
  summary: string;
  rollbackRequest: { id: string } | null;
  changes: FieldChangeOut[];
}

export interface RollbackArgs {
  project: string;
  tenant: string;
  environment: string;
  mode: "FULL" | "SERVICE" | "FIELD";
  targetSha: string;
  service?: string | null;
  fields?: string[] | null;
  justification?: string;
}

export function token(t: TestServer, email = JANE): string {
  const value = t.tokens[email];
  if (!value) throw new Error(`no demo token for ${email}`);
  return value;
}

const SYSTEM: Actor = { kind: "system", user: null };

/** A new tenant with the given environments in a seeded project, so a test owns its history. */
export async function createTenant(t: TestServer, projectSlug: string, tenant: string, environments: string[]): Promise<void> {
  const project = await t.app.db.manager.findOneByOrFail(Project, { slug: projectSlug });
  await t.app.db.transaction((tx) => t.app.catalog.ensureTenantEnvironments(tx, project, tenant, environments));
}

/**
 * Writes hand-written files into a tenant-environment as one RELEASE commit (the way the demo seed
 * imports), e.g. a values.yaml with comments and unusual formatting. Returns the commit sha.
 */
export async function importFiles(t: TestServer, projectSlug: string, tenant: string, environment: string, files: Record<string, string>, summary = "Import hand-written files"): Promise<string> {
  const project = await t.app.db.manager.findOneByOrFail(Project, { slug: projectSlug });
  const te = await t.app.catalog.tenantEnvironment(project, tenant, environment);
  const author = await t.app.auth.findUser(ALICE);
  if (!author) throw new Error("demo user alice is missing");
  const deployment = await t.app.deployments.importFiles(SYSTEM, project, te, new Map(Object.entries(files)), { author, summary });
  return deployment.revision;
}

/** A RELEASE (set) or PROMOTION (fromEnvironment) through the deploy mutation; returns the revision. */
export async function deploy(
  t: TestServer,
  where: { project: string; tenant: string; environment: string },
  service: string,
  change: { set: Record<string, unknown> } | { fromEnvironment: string },
  who = JANE,
): Promise<string> {
  const input =
    "set" in change
      ? { ...where, service, source: "RELEASE", set: change.set }
      : { ...where, service, source: "PROMOTION", fromEnvironment: change.fromEnvironment };
  const data = await t.ok<{ deploy: { revision: string } }>(token(t, who), DEPLOY, { input });
  return data.deploy.revision;
}

export async function preview(t: TestServer, input: RollbackArgs, who = JANE): Promise<GqlResult<{ previewRollback: PreviewOut }>> {
  return t.gql<{ previewRollback: PreviewOut }>(token(t, who), PREVIEW, { input: withoutJustification(input) });
}

export async function request(t: TestServer, input: RollbackArgs, who = JANE): Promise<GqlResult<{ requestRollback: RequestOut }>> {
  return t.gql<{ requestRollback: RequestOut }>(token(t, who), REQUEST, { input: { justification: "issue 3 golden test", ...input } });
}

export async function previewOk(t: TestServer, input: RollbackArgs, who = JANE): Promise<PreviewOut> {
  return (await t.ok<{ previewRollback: PreviewOut }>(token(t, who), PREVIEW, { input: withoutJustification(input) })).previewRollback;
}

/** requestRollback that must execute at once (no approval needed): returns the COMPLETED request. */
export async function rollbackOk(t: TestServer, input: RollbackArgs, who = JANE): Promise<RequestOut & { commitSha: string; commitMessage: string }> {
  const data = await t.ok<{ requestRollback: RequestOut }>(token(t, who), REQUEST, { input: { justification: "issue 3 golden test", ...input } });
  const r = data.requestRollback;
  expect(r.state, `rollback ${JSON.stringify(input)} did not complete: ${r.error}`).toBe("COMPLETED");
  expect(r.commitSha).toMatch(/^[0-9a-f]{40}$/);
  return r as RequestOut & { commitSha: string; commitMessage: string };
}

function withoutJustification(input: RollbackArgs): Omit<RollbackArgs, "justification"> {
  const { justification: _j, ...rest } = input;
  return rest;
}

export async function historyOf(t: TestServer, project: string, tenant: string, environment: string, first = 100): Promise<DeploymentOut[]> {
  const data = await t.ok<{ deploymentHistory: { nodes: DeploymentOut[] } }>(token(t), HISTORY, { p: project, t: tenant, e: environment, n: first });
  return data.deploymentHistory.nodes;
}

export async function requestCount(t: TestServer, project: string): Promise<number> {
  const data = await t.ok<{ rollbackRequests: { totalCount: number } }>(token(t), REQUESTS, { p: project });
  return data.rollbackRequests.totalCount;
}

export async function auditCount(t: TestServer, project: string): Promise<number> {
  const data = await t.ok<{ auditEvents: { totalCount: number } }>(token(t), `query($p: String!) { auditEvents(project: $p, first: 1) { totalCount } }`, { p: project });
  return data.auditEvents.totalCount;
}

/** Replaces an organization's feature flags (the seeded organizations have every flag their plan uses). */
export async function setFeatures(t: TestServer, orgSlug: string, features: string[]): Promise<void> {
  await t.app.db.manager.update(Organization, { slug: orgSlug }, { features });
}

// ------------------------------------------------------------------------------------------ git

export function head(t: TestServer, project: string): string {
  return t.git(project, "rev-parse", "refs/heads/main").trim();
}

/** Paths a commit changed against its first parent, sorted. */
export function changedPaths(t: TestServer, project: string, sha: string): string[] {
  return t
    .git(project, "diff-tree", "--no-commit-id", "-r", "--name-only", sha)
    .split("\n")
    .filter(Boolean)
    .sort();
}

/** Path -> ADDED/REMOVED/MODIFIED of a commit against its first parent. */
export function changedKinds(t: TestServer, project: string, sha: string): Record<string, string> {
  const kinds: Record<string, string> = { A: "ADDED", D: "REMOVED", M: "MODIFIED" };
  const out: Record<string, string> = {};
  for (const line of t.git(project, "diff-tree", "--no-commit-id", "-r", "--name-status", "--no-renames", sha).split("\n").filter(Boolean)) {
    const [status, path] = line.split("\t");
    out[path!] = kinds[status!] ?? status!;
  }
  return out;
}

/** A file's content at a revision, or null when it does not exist there. */
export function show(t: TestServer, project: string, rev: string, path: string): string | null {
  const listed = t.git(project, "ls-tree", rev, "--", path).trim();
  if (listed === "") return null;
  return t.git(project, "cat-file", "blob", `${rev}:${path}`);
}

/** Blob id of every file below `dir` at `rev`. */
export function blobIds(t: TestServer, project: string, rev: string, dir = "tenants"): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of t.git(project, "ls-tree", "-r", rev, "--", dir).split("\n").filter(Boolean)) {
    const [meta, path] = line.split("\t");
    out.set(path!, meta!.split(" ")[2]!);
  }
  return out;
}

/**
 * Every file of the repository that `sha` did not list as changed has the same blob at `sha~1`
 * and at `sha` (byte equality of everything the rollback must not touch), and the files it did
 * change are exactly `expected`.
 */
export function expectOnlyTouched(t: TestServer, project: string, sha: string, expected: string[]): void {
  expect(changedPaths(t, project, sha)).toEqual([...expected].sort());
  const before = blobIds(t, project, `${sha}~1`, ".");
  const after = blobIds(t, project, sha, ".");
  const touched = new Set(expected);
  const untouched = [...new Set([...before.keys(), ...after.keys()])].filter((p) => !touched.has(p));
  expect(untouched.length).toBeGreaterThan(0);
  for (const path of untouched) expect(after.get(path), path).toBe(before.get(path));
}

/** The `-` and `+` lines of a file's diff in one commit (headers excluded). */
export function diffLines(t: TestServer, project: string, sha: string, path: string): { removed: string[]; added: string[] } {
  const text = t.git(project, "diff", "--no-color", "-U0", `${sha}~1`, sha, "--", path);
  const lines = text.split("\n");
  return {
    removed: lines.filter((l) => l.startsWith("-") && !l.startsWith("--- ")).map((l) => l.slice(1)),
    added: lines.filter((l) => l.startsWith("+") && !l.startsWith("+++ ")).map((l) => l.slice(1)),
  };
}

/** The raw commit message, byte for byte. */
export function commitMessage(t: TestServer, project: string, sha: string): string {
  const raw = t.git(project, "cat-file", "commit", sha);
  return raw.slice(raw.indexOf("\n\n") + 2);
}

export function parentOf(t: TestServer, project: string, sha: string): string {
  return t.git(project, "rev-parse", `${sha}~1`).trim();
}

// ------------------------------------------------------------------------------------ previews

export function previewFiles(p: PreviewOut): FileDiffOut[] {
  return [...p.services.flatMap((s) => s.files), ...p.environmentFiles];
}

/**
 * The commit `sha` is exactly what the preview showed, file by file: the same paths with the same
 * kinds, and for every file the preview's patch turns the commit's before-state into its
 * after-state (and back, reversed). The commit sits right on the head the preview was computed on.
 */
export function expectPreviewEqualsCommit(t: TestServer, project: string, p: PreviewOut, sha: string): void {
  expect(parentOf(t, project, sha)).toBe(p.headSha);
  const files = previewFiles(p);
  expect(Object.fromEntries(files.map((f) => [f.path, f.kind]))).toEqual(changedKinds(t, project, sha));
  expect(p.impact.files).toBe(files.length);
  for (const f of files) {
    const before = show(t, project, `${sha}~1`, f.path);
    const after = show(t, project, sha, f.path);
    expect(f.kind, f.path).toBe(before === null ? "ADDED" : after === null ? "REMOVED" : "MODIFIED");
    expect(applyPatch(before ?? "", f.patch), `patch of ${f.path} applied to the commit's parent`).toBe(after ?? "");
    const [parsed] = parsePatch(f.patch);
    expect(applyPatch(after ?? "", reversePatch(parsed!)), `reversed patch of ${f.path} applied to the commit`).toBe(before ?? "");
  }
}

/** Field changes of a preview in one flat list, comparable to a deployment's `changes`. */
export function previewChanges(p: PreviewOut): FieldChangeOut[] {
  return [...p.services.flatMap((s) => s.changes), ...p.environmentChanges].map(({ selector: _s, ...rest }) => rest);
}

export function expectError(res: GqlResult<unknown>, code: string, status: number, message?: string | RegExp): string {
  expect(res.errors, JSON.stringify(res)).toBeDefined();
  expect(res.errors!.length).toBe(1);
  const err = res.errors![0]!;
  expect(err.extensions?.code, err.message).toBe(code);
  expect(err.extensions?.status).toBe(status);
  if (typeof message === "string") expect(err.message).toBe(message);
  else if (message) expect(err.message).toMatch(message);
  expect(JSON.stringify(err)).not.toMatch(/\s+at\s+\S+\s+\(|\/work\/|node_modules|\.ts:\d+/);
  return err.message;
}

// ------------------------------------------------------------------------------------ fixtures

/**
 * A hand-written values.yaml with comments and unusual formatting: a document marker, comments
 * after keys, odd spacing, quoted scalars of both kinds, a flow mapping, an indentless and an
 * over-indented sequence, a folded block scalar and a multi-line flow sequence.
 */
export const TRICKY_VALUES = `# api-gateway values: hand-edited, keep the comments!
---
image:   # the container image
  repository: "registry.example.com/acme/api-gateway"
  tag: 'v1.4.2'    # pinned after INC-1234

replicas:   3   # odd spacing on purpose
port: 8080
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "500m", memory: 512Mi}}
env:
- name: LOG_FORMAT      # an indentless sequence
  value: json
- name: SERVICE_NAME
  value: "api-gateway"
hosts:
    - a.example.com
    - b.example.com   # over-indented
    - c.example.com
probes:
  path: /healthz   # readiness
annotations:
  description: >-
    folded text
    over two lines
tolerations: [
  spot, arm64,
  gpu
]
`;

export const TRICKY_BINDINGS = `# bindings, hand-edited
kustomize:
  path:   "services/api-gateway/kustomize"   # overlay
manifests: [base/deployment.yaml, base/service.yaml]
labels: {team: platform}
`;

export const TRICKY_VARIABLES = `# Service-scoped HQ variables
LOG_LEVEL:   info   # raise to debug during incidents
FEATURE_NEW_CHECKOUT: "false"
`;

/** A plain service in the demo's shape. */
export function plainService(service: string, tag = "v1.0.0", replicas = 1): Record<string, string> {
  return {
    [`services/${service}/values.yaml`]: `# ${service} workload values
image:
  repository: registry.example.com/acme/${service}
  tag: "${tag}"
replicas: ${replicas}
port: 8080
env:
  - name: LOG_FORMAT
    value: json
`,
    [`services/${service}/bindings.yaml`]: `kustomize:
  path: services/${service}/kustomize
manifests:
  - base/deployment.yaml
labels:
  team: platform
`,
    [`services/${service}/variables.yaml`]: `LOG_LEVEL: info
FEATURE_NEW_CHECKOUT: "false"
`,
  };
}

export function envYaml(tenant: string, env: string, region = "eu-west-1"): Record<string, string> {
  return {
    "env.yaml": `# Environment-level configuration for ${tenant}/${env}
cluster: ${env}-eu-1
namespace: ${tenant}-${env}
variables:
  REGION: ${region}
`,
  };
}
