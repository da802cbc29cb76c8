/**
 * What the console needs from the public API: the caller's projects and role, the rollback modes
 * the organization allows (and why not, worded as the refusal), each tenant-environment's newest
 * deployment, whether the caller may review a request (worded as the review's own error), the
 * ROLLBACK deployment a request recorded, and the audit chain's verification.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { historyRevisions } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const who = (t: TestServer, email: string) => {
  const token = t.tokens[email];
  if (!token) throw new Error(`no demo token for ${email}`);
  return token;
};

describe("API for the console", () => {
  let t: TestServer;
  let jane: string, bob: string, alice: string, victor: string, mallory: string;

  const request = async (token: string, environment: string, justification: string) => {
    const [, previous] = await historyRevisions(t, token, "demo", "acme", environment, 2);
    const data = await t.ok<{ requestRollback: { id: string; state: string } }>(token, `mutation($input: RollbackInput!) { requestRollback(input: $input) { id state } }`, {
      input: { project: "demo", tenant: "acme", environment, mode: "FULL", targetSha: previous, justification },
    });
    return data.requestRollback;
  };
  const eligibility = async (token: string, id: string) =>
    (
      await t.ok<{ rollbackRequest: { viewerCanReview: { allowed: boolean; reason: string | null } } }>(
        token,
        `query($id: ID!) { rollbackRequest(id: $id) { viewerCanReview { allowed reason } } }`,
        { id },
      )
    ).rollbackRequest.viewerCanReview;
  const reviewError = async (token: string, id: string) => {
    const result = await t.gql(token, `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { state } }`, { id });
    return result.errors?.[0]?.message ?? null;
  };

  beforeAll(async () => {
    t = await startTestServer();
    [jane, bob, alice, victor, mallory] = ["jane", "bob", "alice", "victor", "mallory"].map((p) => who(t, `${p}@example.com`));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("projects lists the caller's projects with their role; another organization's stay invisible", async () => {
    const query = `{ projects { slug viewerRole organization { slug plan } } }`;
    expect((await t.ok<{ projects: unknown[] }>(jane, query)).projects).toEqual([
      { slug: "demo", viewerRole: "DEPLOYER", organization: { slug: "acme-corp", plan: "ENTERPRISE" } },
      { slug: "pro", viewerRole: "DEPLOYER", organization: { slug: "midsize", plan: "PRO" } },
      { slug: "starter", viewerRole: "DEPLOYER", organization: { slug: "startup", plan: "FREE" } },
    ]);
    expect((await t.ok<{ projects: { slug: string }[] }>(mallory, query)).projects.map((p) => p.slug)).toEqual(["starter"]);
    const anonymous = await t.gql(null, query);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("rollbackModes says which modes the plan and flags allow, with the refusal's own words", async () => {
    const modes = async (slug: string) =>
      (
        await t.ok<{ project: { rollbackModes: { mode: string; allowed: boolean; reason: string | null; blastRadius: string }[] } }>(
          jane,
          `query($s: String!) { project(slug: $s) { rollbackModes { mode allowed reason blastRadius } } }`,
          { s: slug },
        )
      ).project.rollbackModes;
    expect(await modes("demo")).toEqual([
      { mode: "FULL", allowed: true, reason: null, blastRadius: "HIGH" },
      { mode: "SERVICE", allowed: true, reason: null, blastRadius: "MEDIUM" },
      { mode: "FIELD", allowed: true, reason: null, blastRadius: "MINIMAL" },
    ]);
    const starter = await modes("starter");
    expect(starter.map((m) => [m.mode, m.allowed])).toEqual([
      ["FULL", true],
      ["SERVICE", false],
      ["FIELD", false],
    ]);
    expect(starter[1]!.reason).toBe(
      'SERVICE rollback is not available: it requires plan PRO or ENTERPRISE (organization "startup" is on FREE) and feature flag selective_rollback',
    );
    expect(starter[2]!.reason).toBe('FIELD rollback is not available: it requires plan ENTERPRISE (organization "startup" is on FREE) and feature flag selective_rollback');

    // The same words as the preview's refusal.
    const [, previous] = await historyRevisions(t, jane, "starter", "acme", "staging", 2);
    const refused = await t.gql(jane, `query($input: RollbackInput!) { previewRollback(input: $input) { mode } }`, {
      input: { project: "starter", tenant: "acme", environment: "staging", mode: "SERVICE", service: "api-gateway", targetSha: previous },
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toBe(starter[1]!.reason);
  });

  it("latestDeployment is the newest deployment of each tenant-environment, with its status", async () => {
    const data = await t.ok<{ tenantEnvironment: { currentRevision: string; latestDeployment: { revision: string; status: string; summary: string } } }>(
      victor,
      `{ tenantEnvironment(project: "demo", tenant: "acme", environment: "production") { currentRevision latestDeployment { revision status summary } } }`,
    );
    const [newest] = await historyRevisions(t, victor, "demo", "acme", "production", 1);
    expect(data.tenantEnvironment.latestDeployment.revision).toBe(newest);
    expect(data.tenantEnvironment.latestDeployment.revision).toBe(data.tenantEnvironment.currentRevision);
    expect(data.tenantEnvironment.latestDeployment.status).toBe("FAILED"); // the incident of the demo: v2.1.0
  });

  it("viewerCanReview gives the reason a review would be refused, for each rule", async () => {
    const pending = await request(jane, "production", "api-gateway v2.1.0 returns 500s");
    expect(pending.state).toBe("PENDING");

    // Role: DEPLOYER and VIEWER cannot review.
    for (const token of [jane, victor]) {
      const e = await eligibility(token, pending.id);
      expect(e.allowed).toBe(false);
      expect(e.reason).toBe(await reviewError(token, pending.id));
    }
    expect((await eligibility(jane, pending.id)).reason).toBe('role DEPLOYER cannot review rollback requests in project "demo": APPROVER or higher is required');
    expect(await eligibility(bob, pending.id)).toEqual({ allowed: true, reason: null });

    // Self-approval: alice (ADMIN) may not approve her own request.
    const own = await request(alice, "production", "alice's own request");
    const self = await eligibility(alice, own.id);
    expect(self).toEqual({ allowed: false, reason: "cannot approve/reject your own rollback request" });
    expect(await reviewError(alice, own.id)).toBe(self.reason);

    // Already reviewed: with a quorum of two, bob's second review is refused.
    await t.ok(alice, `mutation { setApprovalPolicy(project: "demo", environment: "staging", requiredApprovals: 2, allowSelfApproval: false) { requiredApprovals } }`);
    const twoNeeded = await request(jane, "staging", "needs two approvals");
    await t.ok(bob, `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { state } }`, { id: twoNeeded.id });
    const again = await eligibility(bob, twoNeeded.id);
    expect(again).toEqual({ allowed: false, reason: "you have already reviewed this rollback request" });
    expect(await reviewError(bob, twoNeeded.id)).toBe(again.reason);

    // Not pending any more.
    await t.ok(bob, `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: REJECT) { state } }`, { id: own.id });
    const done = await eligibility(alice, own.id);
    expect(done).toEqual({ allowed: false, reason: "rollback request is not pending approval" });
    expect(await reviewError(alice, own.id)).toBe(done.reason);
    await t.ok(alice, `mutation { setApprovalPolicy(project: "demo", environment: "staging", requiredApprovals: 0, allowSelfApproval: false) { requiredApprovals } }`);
  });

  it("a completed request links the ROLLBACK deployment it recorded", async () => {
    const done = await request(jane, "dev", "dev is broken");
    expect(done.state).toBe("COMPLETED");
    const data = await t.ok<{ rollbackRequest: { commitSha: string; deployment: { revision: string; source: string; status: string } } }>(
      jane,
      `query($id: ID!) { rollbackRequest(id: $id) { commitSha deployment { revision source status } } }`,
      { id: done.id },
    );
    expect(data.rollbackRequest.deployment).toEqual({ revision: data.rollbackRequest.commitSha, source: "ROLLBACK", status: "PENDING" });
    const pending = await request(jane, "production", "not executed yet");
    const none = await t.ok<{ rollbackRequest: { deployment: unknown } }>(jane, `query($id: ID!) { rollbackRequest(id: $id) { deployment { id } } }`, { id: pending.id });
    expect(none.rollbackRequest.deployment).toBeNull();
  });

  it("auditChainVerification walks the chain like the CLI, and finds an edited event", async () => {
    const query = `{ auditChainVerification(project: "demo") { intact checked firstBreak { seq eventId reason } } auditEvents(project: "demo", first: 1) { totalCount nodes { id } } }`;
    const before = await t.ok<{ auditChainVerification: { intact: boolean; checked: number; firstBreak: unknown }; auditEvents: { totalCount: number; nodes: { id: string }[] } }>(
      victor,
      query,
    );
    expect(before.auditChainVerification).toEqual({ intact: true, checked: before.auditEvents.totalCount, firstBreak: null });

    const newest = before.auditEvents.nodes[0]!.id;
    await t.app.db.manager.query(`UPDATE audit_event SET action = 'rollback.tampered' WHERE id = ?`, [newest]);
    const after = await t.ok<{ auditChainVerification: { intact: boolean; firstBreak: { eventId: string; reason: string } } }>(victor, query);
    expect(after.auditChainVerification.intact).toBe(false);
    expect(after.auditChainVerification.firstBreak).toMatchObject({ eventId: newest, reason: "content does not match its hash (edited after it was written)" });

    const hidden = await t.gql(mallory, `{ auditChainVerification(project: "demo") { intact } }`);
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});
