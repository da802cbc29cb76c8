/**
 * Operations of the safety automation tests (holds, automatic rollback, freeze windows), sent to
 * the real server over HTTP like any client.
 */
import { tokenOf } from "./demo.js";
import type { GqlResult, TestServer } from "./server.js";

export const HOLD_FIELDS = `id tenant environment service field heldValue createdAt releasedAt releasedBy { email } releaseJustification releaseKind rollbackRequest { id }`;
export const FREEZE_FIELDS = `id environment startsAt endsAt reason allowRollbacks active createdBy { email }`;
export const POLICY_FIELDS = `id environment enabled windowMinutes mode bypassApproval`;
export const AUTOMATIC_FIELDS = `id state mode service targetSha trigger triggeredBy { id revision status } requestedBy { email } breakGlass
  justification commitSha commitMessage affectedServices requiredApprovals holds { ${HOLD_FIELDS} }`;

export interface Hold {
  id: string;
  tenant: string;
  environment: string;
  service: string;
  field: string;
  heldValue: unknown;
  createdAt: string;
  releasedAt: string | null;
  releasedBy: { email: string } | null;
  releaseJustification: string | null;
  releaseKind: string | null;
  rollbackRequest: { id: string };
}

export interface Freeze {
  id: string;
  environment: string;
  startsAt: string;
  endsAt: string;
  reason: string;
  allowRollbacks: boolean;
  active: boolean;
  createdBy: { email: string };
}

export interface AutomaticRequest {
  id: string;
  state: string;
  mode: string;
  service: string | null;
  targetSha: string;
  trigger: string;
  triggeredBy: { id: string; revision: string; status: string } | null;
  requestedBy: { email: string };
  breakGlass: boolean;
  justification: string;
  commitSha: string | null;
  commitMessage: string | null;
  affectedServices: string[];
  requiredApprovals: number;
  holds: Hold[];
}

export interface DeployArgs {
  project?: string;
  tenant: string;
  environment: string;
  service: string;
  source?: "RELEASE" | "PROMOTION";
  set?: Record<string, unknown>;
  fromEnvironment?: string;
  overrideHolds?: boolean;
  holdOverrideJustification?: string | null;
}

/** deploy as given (the answer may be an error). */
export function tryDeploy(t: TestServer, token: string, args: DeployArgs): Promise<GqlResult<{ deploy: { id: string; revision: string; status: string } }>> {
  return t.gql(token, `mutation($i: DeployInput!) { deploy(input: $i) { id revision status } }`, { i: { project: "demo", ...args } });
}

export async function mustDeploy(t: TestServer, token: string, args: DeployArgs): Promise<{ id: string; revision: string; status: string }> {
  const res = await tryDeploy(t, token, args);
  if (res.errors?.length) throw new Error(`deploy failed: ${JSON.stringify(res.errors)}`);
  return res.data!.deploy;
}

export async function holdsOf(t: TestServer, tenant: string, environment: string, activeOnly = true, project = "demo"): Promise<Hold[]> {
  const data = await t.ok<{ tenantEnvironment: { holds: Hold[] } }>(
    tokenOf(t, "victor"),
    `query($p: String!, $t: String!, $e: String!, $a: Boolean) { tenantEnvironment(project: $p, tenant: $t, environment: $e) { holds(activeOnly: $a) { ${HOLD_FIELDS} } } }`,
    { p: project, t: tenant, e: environment, a: activeOnly },
  );
  return data.tenantEnvironment.holds;
}

export function releaseHold(t: TestServer, token: string, id: string, justification: string): Promise<GqlResult<{ releaseDeploymentHold: Hold }>> {
  return t.gql(token, `mutation($id: ID!, $j: String!) { releaseDeploymentHold(id: $id, justification: $j) { ${HOLD_FIELDS} } }`, { id, j: justification });
}

export function createFreeze(
  t: TestServer,
  token: string,
  args: { project?: string; environment: string; startsAt: Date | string; endsAt: Date | string; reason: string; allowRollbacks?: boolean },
): Promise<GqlResult<{ createFreezeWindow: Freeze }>> {
  const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : d);
  return t.gql(
    token,
    `mutation($p: String!, $e: String!, $s: DateTime!, $x: DateTime!, $r: String!, $a: Boolean) {
      createFreezeWindow(project: $p, environment: $e, startsAt: $s, endsAt: $x, reason: $r, allowRollbacks: $a) { ${FREEZE_FIELDS} } }`,
    { p: args.project ?? "demo", e: args.environment, s: iso(args.startsAt), x: iso(args.endsAt), r: args.reason, a: args.allowRollbacks ?? null },
  );
}

export async function mustFreeze(t: TestServer, args: Parameters<typeof createFreeze>[2]): Promise<Freeze> {
  const res = await createFreeze(t, tokenOf(t, "alice"), args);
  if (res.errors?.length) throw new Error(`createFreezeWindow failed: ${JSON.stringify(res.errors)}`);
  return res.data!.createFreezeWindow;
}

export function deleteFreeze(t: TestServer, token: string, id: string): Promise<GqlResult<{ deleteFreezeWindow: Freeze }>> {
  return t.gql(token, `mutation($id: ID!) { deleteFreezeWindow(id: $id) { ${FREEZE_FIELDS} } }`, { id });
}

export interface PolicyArgs {
  project?: string;
  environment: string;
  enabled: boolean;
  windowMinutes?: number;
  mode?: "FULL" | "SERVICE" | "FIELD";
  bypassApproval?: boolean;
}

export function setAutoRollback(t: TestServer, token: string, args: PolicyArgs): Promise<GqlResult<{ setAutoRollbackPolicy: Record<string, unknown> }>> {
  return t.gql(
    token,
    `mutation($p: String!, $e: String!, $on: Boolean!, $w: Int, $m: RollbackMode, $b: Boolean) {
      setAutoRollbackPolicy(project: $p, environment: $e, enabled: $on, windowMinutes: $w, mode: $m, bypassApproval: $b) { ${POLICY_FIELDS} } }`,
    { p: args.project ?? "demo", e: args.environment, on: args.enabled, w: args.windowMinutes ?? null, m: args.mode ?? null, b: args.bypassApproval ?? null },
  );
}

export async function mustSetAutoRollback(t: TestServer, args: PolicyArgs): Promise<void> {
  const res = await setAutoRollback(t, tokenOf(t, "alice"), args);
  if (res.errors?.length) throw new Error(`setAutoRollbackPolicy failed: ${JSON.stringify(res.errors)}`);
}

/** The automatic rollback requests of a tenant-environment, newest first. */
export async function automaticRequests(t: TestServer, tenant: string, environment: string, project = "demo"): Promise<AutomaticRequest[]> {
  const data = await t.ok<{ rollbackRequests: { nodes: AutomaticRequest[] } }>(
    tokenOf(t, "victor"),
    `query($p: String!, $t: String, $e: String) { rollbackRequests(project: $p, tenant: $t, environment: $e, first: 100) { nodes { ${AUTOMATIC_FIELDS} } } }`,
    { p: project, t: tenant, e: environment },
  );
  return data.rollbackRequests.nodes.filter((r) => r.trigger === "AUTOMATIC");
}

/** The message every refusal during a freeze carries. */
export function frozenMessage(freeze: Pick<Freeze, "environment" | "endsAt" | "reason">): string {
  return `environment ${freeze.environment} is frozen until ${new Date(freeze.endsAt).toISOString()}: ${freeze.reason}`;
}

export const minutesFromNow = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);
