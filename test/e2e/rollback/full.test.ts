import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { ENVIRONMENTS, TENANTS, tokenOf } from "../../helpers/demo.js";
import { changedPaths, commitCount, commitMessage, entryId, head, isAncestor, tenantEnvironmentTrees, trailersOf } from "../../helpers/git.js";
import {
  DEPLOYMENT_RECORDED,
  type DeploymentView,
  fullHistory,
  previewRollback,
  type PreviewView,
  REQUEST_FIELDS,
  requestRollback,
  ROLLBACK_REQUEST_UPDATED,
  rollbackRequestCount,
  type RollbackRequestView,
  type RecordedDeployment,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { subscribe, type Subscription, warmUp } from "../../helpers/subscriptions.js";

interface UpdateEvent {
  id: string;
  state: string;
  tenant: string;
  environment: string;
  commitSha: string | null;
}

const JUSTIFICATION = "Bad promotion of auth: login fails for every tenant user";

/**
 * A FULL rollback of acme/staging to the deployment ten back, end to end:
 * request, Git commit, history, statuses and subscription events.
 */
describe("FULL rollback of acme/staging, ten deployments back", () => {
  const t = useTestServer();
  let jane: string;
  let before: DeploymentView[];
  let target: DeploymentView;
  let headBefore: string;
  let commitsBefore: number;
  let treesBefore: Record<string, string>;
  let previewed: PreviewView;
  let request: RollbackRequestView;
  let updates: Subscription<UpdateEvent>;
  let recorded: Subscription<RecordedDeployment>;
  let after: DeploymentView[];

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    before = await fullHistory(t, jane, "acme", "staging");
    target = before[10]!;

    // Subscribe to the whole project, then prove both subscriptions are live with one event each
    // before the rollback: a production rollback request (it waits for approval and writes nothing)
    // and a deploy to globex/dev.
    const client = t.ws(jane);
    updates = subscribe<UpdateEvent>(client, ROLLBACK_REQUEST_UPDATED, { p: "demo" }, "rollbackRequestUpdated");
    recorded = subscribe<RecordedDeployment>(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    const prod = await fullHistory(t, jane, "acme", "production");
    const warmRequest = await requestRollback(t, jane, {
      project: "demo",
      tenant: "acme",
      environment: "production",
      mode: "FULL",
      targetSha: prod[1]!.revision,
      justification: "warm-up: waits for approval",
    });
    expect(warmRequest.data?.requestRollback.state).toBe("PENDING");
    const warmId = warmRequest.data!.requestRollback.id;
    // Each note on the pending request publishes it again.
    await warmUp(
      updates,
      (n) => t.ok(jane, `mutation($id:ID!,$text:String!){ addRollbackNote(id:$id,text:$text){ id } }`, { id: warmId, text: `warm-up ${n}` }),
      (items) => items.some((e) => e.id === warmId),
    );
    await warmUp(
      recorded,
      (n) =>
        t.ok(jane, `mutation($i:DeployInput!){ deploy(input:$i){ id } }`, {
          i: { project: "demo", tenant: "globex", environment: "dev", service: "worker", set: { "variables:WARM_UP": `w${n}` } },
        }),
      (items) => items.some((e) => e.summary.includes("globex/dev")),
    );

    headBefore = head(t);
    commitsBefore = commitCount(t);
    treesBefore = tenantEnvironmentTrees(t, headBefore);

    const input = { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: target.revision, justification: JUSTIFICATION };
    const pre = await previewRollback(t, jane, input);
    expect(pre.errors).toBeUndefined();
    previewed = pre.data!.previewRollback;

    const res = await requestRollback(t, jane, input);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    request = res.data!.requestRollback;

    await updates.until((items) => items.some((e) => e.id === request.id && e.state === "COMPLETED"));
    await recorded.until((items) => items.some((e) => e.source === "ROLLBACK"));
    after = await fullHistory(t, jane, "acme", "staging");
  });
  afterAll(async () => {
    updates?.dispose();
    recorded?.dispose();
  });

  it("completes the request at once and reports the commit", () => {
    expect(request).toMatchObject({
      state: "COMPLETED",
      mode: "FULL",
      project: "demo",
      tenant: "acme",
      environment: "staging",
      targetSha: target.revision,
      baseSha: before[0]!.revision,
      justification: JUSTIFICATION,
      requestedBy: { email: "jane@example.com" },
      requiredApprovals: 0,
      breakGlass: false,
      error: null,
      service: null,
      selectedFields: [],
    });
    expect(request.id).toMatch(/^rbk-[0-9a-z]+$/);
    expect(request.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(request.affectedServices).toEqual(previewed.services.map((s) => s.service));
  });

  it("writes the rollback commit on top of the branch in DATA_DIR/repos/demo.git", () => {
    expect(t.repoPath("demo")).toBe(`${t.dataDir}/repos/demo.git`);
    expect(head(t)).toBe(request.commitSha);
    expect(t.git("demo", "cat-file", "-t", request.commitSha!).trim()).toBe("commit");
    expect(t.git("demo", "rev-parse", `${request.commitSha}^`).trim()).toBe(headBefore);
    expect(commitCount(t)).toBe(commitsBefore + 1);
  });

  it("does not rewrite history: the target and every later deployment are still commits on the branch", () => {
    for (const d of before) expect(isAncestor(t, d.revision, request.commitSha!), d.shortRevision).toBe(true);
  });

  it("uses exactly the spec's commit message format", () => {
    const expected = [
      `Rollback: tenant/acme env/staging → revision ${target.revision.slice(0, 7)}`,
      "",
      "Mode: full",
      `Justification: ${JUSTIFICATION}`,
      "Author: jane@example.com",
      "Approval: Not required",
      `Rollback Request ID: ${request.id}`,
    ].join("\n");
    expect(commitMessage(t, request.commitSha!)).toBe(expected);
    expect(request.commitMessage?.replace(/\n+$/, "")).toBe(expected);
  });

  it("authors the commit as the requester", () => {
    expect(t.git("demo", "show", "-s", "--format=%ae", request.commitSha!).trim()).toBe("jane@example.com");
  });

  it("makes the tenant-environment directory equal the target's, byte for byte", () => {
    expect(entryId(t, request.commitSha!, "tenants/acme/staging")).toBe(entryId(t, target.revision, "tenants/acme/staging"));
    expect(t.git("demo", "ls-tree", "-r", `${request.commitSha}:tenants/acme/staging`)).toBe(t.git("demo", "ls-tree", "-r", `${target.revision}:tenants/acme/staging`));
    expect(t.git("demo", "diff", "--stat", target.revision, request.commitSha!, "--", "tenants/acme/staging")).toBe("");
  });

  it("changes only files under tenants/acme/staging/", () => {
    const paths = changedPaths(t, headBefore, request.commitSha!);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p.startsWith("tenants/acme/staging/"), p).toBe(true);
  });

  it("leaves every other tenant-environment untouched", () => {
    const now = tenantEnvironmentTrees(t, request.commitSha!);
    for (const tenant of TENANTS) {
      for (const env of ENVIRONMENTS) {
        if (tenant === "acme" && env === "staging") continue;
        expect(now[`${tenant}/${env}`], `${tenant}/${env}`).toBe(treesBefore[`${tenant}/${env}`]);
      }
    }
  });

  it("changes exactly the files the preview listed", () => {
    const listed = previewed.services.flatMap((s) => s.files.map((f) => f.path)).sort();
    expect(changedPaths(t, headBefore, request.commitSha!)).toEqual(listed);
    expect(previewed.impact.files).toBe(listed.length);
  });

  it("records a ROLLBACK deployment at the top of the history", () => {
    const top = after[0]!;
    expect(after).toHaveLength(before.length + 1);
    expect(top).toMatchObject({
      revision: request.commitSha,
      shortRevision: request.commitSha!.slice(0, 7),
      source: "ROLLBACK",
      status: "PENDING",
      author: { email: "jane@example.com" },
      summary: `Rollback: tenant/acme env/staging → revision ${target.revision.slice(0, 7)}`,
      rollbackRequest: { id: request.id, state: "COMPLETED" },
    });
    expect(after.slice(1).map((d) => d.id)).toEqual(before.map((d) => d.id));
  });

  it("lists in the ROLLBACK deployment the same field changes the preview showed", () => {
    const fromPreview = [...previewed.services.flatMap((s) => s.changes), ...previewed.environmentChanges];
    expect(after[0]!.changes).toEqual(fromPreview);
  });

  it("moves the tenant-environment's currentRevision to the rollback commit", async () => {
    const data = await t.ok<{ tenantEnvironment: { currentRevision: string; services: { name: string; values: { image: { tag: string }; replicas: number } }[] } }>(
      jane,
      `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"staging"){ currentRevision services { name values } } }`,
    );
    expect(data.tenantEnvironment.currentRevision).toBe(request.commitSha);
    for (const svc of data.tenantEnvironment.services) {
      const text = t.git("demo", "show", `${target.revision}:tenants/acme/staging/services/${svc.name}/values.yaml`);
      expect(text).toContain(`tag: "${svc.values.image.tag}"`);
      expect(text).toContain(`replicas: ${svc.values.replicas}`);
    }
  });

  it("marks the ten deployments after the target ROLLED_BACK", () => {
    const byId = new Map(after.map((d) => [d.id, d]));
    for (const d of before.slice(0, 10)) expect(byId.get(d.id)!.status, d.shortRevision).toBe("ROLLED_BACK");
  });

  it("keeps the status of the target and everything older", () => {
    const byId = new Map(after.map((d) => [d.id, d]));
    for (const d of before.slice(10)) expect(byId.get(d.id)!.status, d.shortRevision).toBe(d.status);
  });

  it("counts the ROLLED_BACK and ROLLBACK deployments in the filtered totals", async () => {
    const rolledBack = await t.ok<{ deploymentHistory: { totalCount: number; nodes: { id: string }[] } }>(
      jane,
      `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",status:ROLLED_BACK,first:50){ totalCount nodes { id } } }`,
    );
    expect(rolledBack.deploymentHistory.totalCount).toBe(10);
    expect(rolledBack.deploymentHistory.nodes.map((n) => n.id)).toEqual(before.slice(0, 10).map((d) => d.id));
    const rollbacks = await t.ok<{ deploymentHistory: { totalCount: number } }>(
      jane,
      `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging",source:ROLLBACK,first:0){ totalCount } }`,
    );
    expect(rollbacks.deploymentHistory.totalCount).toBe(1);
  });

  it("leaves the history and statuses of the other tenant-environments alone", async () => {
    const globex = await fullHistory(t, jane, "globex", "staging");
    expect(globex.every((d) => d.status !== "ROLLED_BACK")).toBe(true);
  });

  it("publishes APPROVED, EXECUTING and COMPLETED on rollbackRequestUpdated, in that order", () => {
    const states = updates.items.filter((e) => e.id === request.id).map((e) => e.state);
    expect(states).toEqual(["APPROVED", "EXECUTING", "COMPLETED"]);
    const completed = updates.items.find((e) => e.id === request.id && e.state === "COMPLETED")!;
    expect(completed).toMatchObject({ tenant: "acme", environment: "staging", commitSha: request.commitSha });
  });

  it("publishes the ROLLBACK deployment on deploymentRecorded", () => {
    const events = recorded.items.filter((e) => e.source === "ROLLBACK");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: after[0]!.id, revision: request.commitSha, status: "PENDING", author: { email: "jane@example.com" } });
  });

  it("returns the completed request from rollbackRequest(id) and rollbackRequests", async () => {
    const one = await t.ok<{ rollbackRequest: RollbackRequestView }>(jane, `query($id:ID!){ rollbackRequest(id:$id){ ${REQUEST_FIELDS} } }`, { id: request.id });
    expect(one.rollbackRequest).toMatchObject({ id: request.id, state: "COMPLETED", commitSha: request.commitSha });
    const list = await t.ok<{ rollbackRequests: { nodes: { id: string; state: string }[] } }>(
      jane,
      `{ rollbackRequests(project:"demo",tenant:"acme",environment:"staging"){ nodes { id state } } }`,
    );
    expect(list.rollbackRequests.nodes).toContainEqual({ id: request.id, state: "COMPLETED" });
  });

  it("keeps every rendered manifest consistent with its service files (rendered at the target, restored with it)", () => {
    for (const svc of ["api-gateway", "auth", "billing", "web", "worker"]) {
      expect(t.git("demo", "rev-parse", `${request.commitSha}:tenants/acme/staging/rendered/${svc}.yaml`).trim()).toBe(
        t.git("demo", "rev-parse", `${target.revision}:tenants/acme/staging/rendered/${svc}.yaml`).trim(),
      );
    }
  });

  it("carries trailers a reindex can read: the request id in the commit", () => {
    expect(trailersOf(commitMessage(t, request.commitSha!))["Rollback Request ID"]).toBe(request.id);
  });
});

describe("more FULL rollbacks", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  const full = (tenant: string, environment: string, targetSha: string, justification = "restore a known-good state") => ({
    project: "demo",
    tenant,
    environment,
    mode: "FULL",
    targetSha,
    justification,
  });

  it("rolls back with an abbreviated target revision", async () => {
    const history = await fullHistory(t, jane, "globex", "dev");
    const res = await requestRollback(t, jane, full("globex", "dev", history[3]!.shortRevision));
    expect(res.errors).toBeUndefined();
    const req = res.data!.requestRollback;
    expect(req).toMatchObject({ state: "COMPLETED", targetSha: history[3]!.revision });
    expect(entryId(t, req.commitSha!, "tenants/globex/dev")).toBe(entryId(t, history[3]!.revision, "tenants/globex/dev"));
  });

  it("rolls back a rollback: returning to the revision before it restores the directory", async () => {
    const history = await fullHistory(t, jane, "acme", "dev");
    const first = await requestRollback(t, jane, full("acme", "dev", history[4]!.revision));
    expect(first.data?.requestRollback.state).toBe("COMPLETED");
    const second = await requestRollback(t, jane, full("acme", "dev", history[0]!.revision, "the first rollback was not needed"));
    expect(second.errors).toBeUndefined();
    const req = second.data!.requestRollback;
    expect(req.state).toBe("COMPLETED");
    expect(entryId(t, req.commitSha!, "tenants/acme/dev")).toBe(entryId(t, history[0]!.revision, "tenants/acme/dev"));
    const now = await fullHistory(t, jane, "acme", "dev");
    expect(now.slice(0, 2).map((d) => d.source)).toEqual(["ROLLBACK", "ROLLBACK"]);
    // The first rollback was undone by the second.
    expect(now[1]!.status).toBe("ROLLED_BACK");
  });

  it("refuses a rollback to a revision whose directory equals the current one with BAD_USER_INPUT and writes nothing", async () => {
    const history = await fullHistory(t, jane, "globex", "staging");
    const headBefore = head(t);
    const requests = await rollbackRequestCount(t, jane);
    const res = await requestRollback(t, jane, full("globex", "staging", history[0]!.revision));
    expectError(res, "BAD_USER_INPUT", 400, /nothing to roll back/i);
    expect(head(t)).toBe(headBefore);
    expect(await rollbackRequestCount(t, jane)).toBe(requests);
  });

  it("rolls back to the very first deployment (the import) of a tenant-environment", async () => {
    const history = await fullHistory(t, jane, "globex", "staging");
    const first = history[history.length - 1]!;
    const res = await requestRollback(t, jane, full("globex", "staging", first.revision));
    expect(res.errors).toBeUndefined();
    const req = res.data!.requestRollback;
    expect(entryId(t, req.commitSha!, "tenants/globex/staging")).toBe(entryId(t, first.revision, "tenants/globex/staging"));
    const now = await fullHistory(t, jane, "globex", "staging");
    expect(now.slice(1, -1).every((d) => d.status === "ROLLED_BACK")).toBe(true);
  });

  it("keeps a multi-line justification on one trailer line", async () => {
    const history = await fullHistory(t, jane, "acme", "staging");
    const res = await requestRollback(t, jane, full("acme", "staging", history[2]!.revision, "first line\nsecond line"));
    expect(res.errors).toBeUndefined();
    const message = commitMessage(t, res.data!.requestRollback.commitSha!);
    expect(message.split("\n")).toContain("Justification: first line second line");
    expect(trailersOf(message)).toMatchObject({ Mode: "full", Author: "jane@example.com", Approval: "Not required" });
  });

  it("holds a production rollback for its one approval and writes nothing yet", async () => {
    const alice = tokenOf(t, "alice");
    const history = await fullHistory(t, alice, "globex", "production");
    const headBefore = head(t);
    const res = await requestRollback(t, alice, full("globex", "production", history[2]!.revision));
    expect(res.errors).toBeUndefined();
    expect(res.data!.requestRollback).toMatchObject({ state: "PENDING", requiredApprovals: 1, commitSha: null });
    expect(head(t)).toBe(headBefore);
  });

  it("runs a FULL rollback in a FREE-plan project (starter)", async () => {
    const history = await fullHistory(t, jane, "acme", "dev", { project: "starter" });
    const res = await requestRollback(t, jane, { ...full("acme", "dev", history[2]!.revision), project: "starter" });
    expect(res.errors).toBeUndefined();
    const req = res.data!.requestRollback;
    expect(req.state).toBe("COMPLETED");
    expect(entryId(t, req.commitSha!, "tenants/acme/dev", "starter")).toBe(entryId(t, history[2]!.revision, "tenants/acme/dev", "starter"));
  });
});
