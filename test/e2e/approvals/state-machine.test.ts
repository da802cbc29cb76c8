import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Role, TokenKind } from "../../../entities/enums.js";
import { errorOf, expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitsOf, entryId, head, lockBranch, unlockBranch } from "../../helpers/git.js";
import { auditOf, badRelease, getRequest, mustRequest, mustReview, recentDeployments, requestRollback, retry, review, rollbackInput, setPolicy } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * The approval state machine of rollback requests, driven over HTTP against a real
 * server on a demo-seeded data directory (acme-corp ENTERPRISE with rollback_approval; production
 * needs 1 approval and forbids self-approval).
 */

const NOT_PENDING = "rollback request is not pending approval";
const SELF_REVIEW = "cannot approve/reject your own rollback request";
const ALREADY_REVIEWED = "you have already reviewed this rollback request";
const EXECUTION_FAILED = "approval saved but rollback execution failed";

describe("rollback request state machine", () => {
  const t = useTestServer();
  let jane: string, bob: string, carol: string, alice: string, victor: string, mallory: string;

  beforeAll(async () => {
    [jane, bob, carol, alice, victor, mallory] = (["jane", "bob", "carol", "alice", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
  });
  afterEach(async () => {
    // Every test leaves production as the seed made it: quorum 1, no self-approval, branch unlocked.
    unlockBranch(t);
    if (t) await setPolicy(t, "production", 1, false);
  });

  it("a production request is PENDING; one APPROVE executes it in the same call and the commit names the approver", async () => {
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good, justification: "Bad image tag v2.1.0 causing 500 errors" });
    expect(pending).toMatchObject({
      state: "PENDING",
      mode: "FULL",
      project: "demo",
      tenant: "acme",
      environment: "production",
      targetSha: good,
      baseSha: bad,
      requiredApprovals: 1,
      approvals: 0,
      breakGlass: false,
      commitSha: null,
      commitMessage: null,
      error: null,
      reviews: [],
      requestedBy: { email: "jane@example.com" },
    });
    expect(pending.id).toMatch(/^rbk-/);
    expect(head(t)).toBe(bad); // nothing written while pending
    expect(commitsOf(t, pending.id)).toEqual([]);

    const done = await mustReview(t, bob, pending.id, "APPROVE", "LGTM, roll it back");
    expect(done).toMatchObject({ id: pending.id, state: "COMPLETED", approvals: 1, requiredApprovals: 1, error: null });
    expect(done.reviews).toEqual([expect.objectContaining({ reviewer: { email: "bob@example.com" }, decision: "APPROVE", comment: "LGTM, roll it back" })]);
    expect(done.commitSha).toBe(head(t));
    expect(done.commitMessage).toBe(
      [
        `Rollback: tenant/acme env/production → revision ${good.slice(0, 7)}`,
        "",
        "Mode: full",
        "Justification: Bad image tag v2.1.0 causing 500 errors",
        "Author: jane@example.com",
        "Approval: Approved by bob@example.com (quorum: 1/1)",
        `Rollback Request ID: ${pending.id}`,
        "",
      ].join("\n"),
    );
    // Git has exactly that commit, on top of the bad release, restoring the good directory.
    expect(t.git("demo", "log", "-1", "--format=%B", "refs/heads/main").trim()).toBe(done.commitMessage!.trim());
    expect(t.git("demo", "rev-parse", `${done.commitSha}^`).trim()).toBe(bad);
    expect(entryId(t, done.commitSha!, "tenants/acme/production")).toBe(entryId(t, good, "tenants/acme/production"));
    expect(commitsOf(t, pending.id)).toEqual([done.commitSha]);
    // The history shows the rollback as the newest deployment.
    const [newest] = (await recentDeployments(t, victor, "acme", "production", 1)).map((d) => d.revision);
    expect(newest).toBe(done.commitSha);

    // A finished request cannot be reviewed again: not pending.
    expectError(await review(t, carol, pending.id, "APPROVE"), "BAD_USER_INPUT", 400, NOT_PENDING);
    expectError(await review(t, carol, pending.id, "REJECT"), "BAD_USER_INPUT", 400, NOT_PENDING);
    expect((await getRequest(t, victor, pending.id)).reviews).toHaveLength(1);
  });

  it("quorum 2: the first approval keeps it PENDING, the second executes it and the commit lists both; a double review is CONFLICT", async () => {
    expect(await setPolicy(t, "production", 2, false)).toEqual({ environment: "production", requiredApprovals: 2, allowSelfApproval: false });
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    expect(pending).toMatchObject({ state: "PENDING", requiredApprovals: 2, approvals: 0 });

    const afterBob = await mustReview(t, bob, pending.id, "APPROVE");
    expect(afterBob).toMatchObject({ state: "PENDING", approvals: 1, requiredApprovals: 2, commitSha: null });
    expect(head(t)).toBe(bad);

    // Bob again: one review per reviewer, whatever the decision.
    expectError(await review(t, bob, pending.id, "APPROVE"), "CONFLICT", 409, ALREADY_REVIEWED);
    expectError(await review(t, bob, pending.id, "REJECT"), "CONFLICT", 409, ALREADY_REVIEWED);
    expect(await getRequest(t, jane, pending.id)).toMatchObject({ state: "PENDING", approvals: 1 });
    expect(head(t)).toBe(bad);

    const done = await mustReview(t, carol, pending.id, "APPROVE");
    expect(done).toMatchObject({ state: "COMPLETED", approvals: 2, requiredApprovals: 2 });
    expect(done.reviews.map((r) => r.reviewer.email)).toEqual(["bob@example.com", "carol@example.com"]);
    expect(done.commitMessage).toContain("Approval: Approved by bob@example.com, carol@example.com (quorum: 2/2)\n");
    expect(commitsOf(t, pending.id)).toEqual([head(t)]);
  });

  it("self-approval is FORBIDDEN by default, for APPROVE and REJECT alike", async () => {
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, bob, { targetSha: good });
    expect(pending.requestedBy.email).toBe("bob@example.com");
    expectError(await review(t, bob, pending.id, "APPROVE"), "FORBIDDEN", 403, SELF_REVIEW);
    expectError(await review(t, bob, pending.id, "REJECT"), "FORBIDDEN", 403, SELF_REVIEW);
    expect(await getRequest(t, bob, pending.id)).toMatchObject({ state: "PENDING", approvals: 0, reviews: [] });
    expect(head(t)).toBe(bad);
    // Anyone else with the role can still approve it.
    expect((await mustReview(t, carol, pending.id, "APPROVE")).state).toBe("COMPLETED");
  });

  it("self-approval is allowed when the environment's policy allows it", async () => {
    expect(await setPolicy(t, "production", 1, true)).toEqual({ environment: "production", requiredApprovals: 1, allowSelfApproval: true });
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, bob, { targetSha: good });
    expect(pending.state).toBe("PENDING");
    const done = await mustReview(t, bob, pending.id, "APPROVE", "approving my own, policy allows it");
    expect(done.state).toBe("COMPLETED");
    expect(done.commitMessage).toContain("Approval: Approved by bob@example.com (quorum: 1/1)\n");
    expect(done.commitMessage).toContain("Author: bob@example.com\n");
  });

  it("one REJECT rejects; later reviews are not pending and nothing is written", async () => {
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    const rejected = await mustReview(t, carol, pending.id, "REJECT", "wrong target, use the previous tag");
    expect(rejected).toMatchObject({ state: "REJECTED", approvals: 0, commitSha: null });
    expect(rejected.reviews).toEqual([expect.objectContaining({ reviewer: { email: "carol@example.com" }, decision: "REJECT", comment: "wrong target, use the previous tag" })]);
    expectError(await review(t, bob, pending.id, "APPROVE"), "BAD_USER_INPUT", 400, NOT_PENDING);
    expectError(await review(t, alice, pending.id, "APPROVE"), "BAD_USER_INPUT", 400, NOT_PENDING);
    // Nothing moves a REJECTED request backwards, retry included.
    expectError(await retry(t, jane, pending.id), "BAD_USER_INPUT", 400);
    expect(await getRequest(t, jane, pending.id)).toMatchObject({ state: "REJECTED" });
    expect(head(t)).toBe(bad);
    expect(commitsOf(t, pending.id)).toEqual([]);
    expect((await auditOf(t, pending.id)).map((e) => e.action)).toEqual(["rollback.requested", "rollback.reviewed", "rollback.rejected"]);
  });

  it("only APPROVER and ADMIN review: DEPLOYER and VIEWER are FORBIDDEN, another organization gets NOT_FOUND", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, bob, { targetSha: good });
    for (const token of [jane, victor]) {
      for (const decision of ["APPROVE", "REJECT"] as const) {
        const err = expectError(await review(t, token, pending.id, decision), "FORBIDDEN", 403);
        expect(err.message).not.toBe(SELF_REVIEW);
      }
    }
    expectError(await review(t, mallory, pending.id, "APPROVE"), "NOT_FOUND", 404);
    expectError(await review(t, bob, "rbk-doesnotexist", "APPROVE"), "NOT_FOUND", 404);
    expect(await getRequest(t, alice, pending.id)).toMatchObject({ state: "PENDING", reviews: [] });
    // ADMIN reviews.
    expect((await mustReview(t, alice, pending.id, "REJECT")).state).toBe("REJECTED");
  });

  it("execution failure after approval: EXECUTION_FAILED 500, review kept, request FAILED with error; retry completes it", async () => {
    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    lockBranch(t);
    const res = await review(t, bob, pending.id, "APPROVE", "go");
    const err = expectError(res, "EXECUTION_FAILED", 500, EXECUTION_FAILED);
    expect(err.extensions?.requestId).toBe(pending.id);
    expect(JSON.stringify(res.errors)).not.toContain(t.dataDir); // no internal paths for the client

    const failed = await getRequest(t, jane, pending.id);
    expect(failed).toMatchObject({ state: "FAILED", approvals: 1, commitSha: null });
    expect(failed.reviews).toEqual([expect.objectContaining({ reviewer: { email: "bob@example.com" }, decision: "APPROVE", comment: "go" })]);
    expect(failed.error).toEqual(expect.any(String));
    expect(failed.error!.length).toBeGreaterThan(0);
    expect(failed.error).not.toContain(t.dataDir);
    expect(head(t)).toBe(bad);
    expect(commitsOf(t, pending.id)).toEqual([]);

    // FAILED is not pending: reviews cannot move it, only a retry can.
    expectError(await review(t, carol, pending.id, "APPROVE"), "BAD_USER_INPUT", 400, NOT_PENDING);

    // Still locked: the retry fails again and the request stays FAILED (and retryable).
    expectError(await retry(t, jane, pending.id), "EXECUTION_FAILED", 500);
    expect((await getRequest(t, jane, pending.id)).state).toBe("FAILED");

    unlockBranch(t);
    const retried = await retry(t, jane, pending.id);
    expect(retried.errors).toBeUndefined();
    const done = retried.data!.retryRollbackExecution;
    expect(done).toMatchObject({ state: "COMPLETED", error: null, approvals: 1 });
    expect(done.commitSha).toBe(head(t));
    expect(done.commitMessage).toContain("Approval: Approved by bob@example.com (quorum: 1/1)\n");
    expect(commitsOf(t, pending.id)).toEqual([done.commitSha]);
    expect(entryId(t, done.commitSha!, "tenants/acme/production")).toBe(entryId(t, good, "tenants/acme/production"));
    expect((await auditOf(t, pending.id)).map((e) => e.action)).toEqual([
      "rollback.requested",
      "rollback.reviewed",
      "rollback.approved",
      "rollback.failed",
      "rollback.retried",
      "rollback.failed",
      "rollback.retried",
      "rollback.executed",
      "hold.created",
    ]);
  });

  it("retry of a request that is not FAILED is BAD_USER_INPUT", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    expectError(await retry(t, jane, pending.id), "BAD_USER_INPUT", 400);
    expectError(await retry(t, bob, pending.id), "BAD_USER_INPUT", 400);
    const done = await mustReview(t, bob, pending.id, "APPROVE");
    expect(done.state).toBe("COMPLETED");
    const before = head(t);
    expectError(await retry(t, alice, pending.id), "BAD_USER_INPUT", 400);
    expect(head(t)).toBe(before);
    expect(commitsOf(t, pending.id)).toHaveLength(1);
    // A VIEWER may not retry at all; another organization does not see the request.
    expectError(await retry(t, victor, pending.id), "FORBIDDEN", 403);
    expectError(await retry(t, mallory, pending.id), "NOT_FOUND", 404);
  });

  it("a DEPLOYER may retry only their own requests; APPROVER and ADMIN any; concurrent retries execute once", async () => {
    // A second DEPLOYER in demo (the CLI's token creation, in-process).
    const dan = (await t.app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.USER, projectSlug: "demo", email: "dan@example.com", role: Role.DEPLOYER }))
      .token;
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    lockBranch(t);
    expectError(await review(t, bob, pending.id, "APPROVE"), "EXECUTION_FAILED", 500, EXECUTION_FAILED);
    unlockBranch(t);
    expectError(await retry(t, dan, pending.id), "FORBIDDEN", 403);
    expect((await getRequest(t, dan, pending.id)).state).toBe("FAILED");

    const results = await Promise.all([retry(t, carol, pending.id), retry(t, alice, pending.id), retry(t, jane, pending.id)]);
    const succeeded = results.filter((r) => !r.errors);
    expect(succeeded.length, JSON.stringify(results)).toBeGreaterThanOrEqual(1);
    for (const r of succeeded) expect(r.data!.retryRollbackExecution.state).toBe("COMPLETED");
    for (const r of results.filter((x) => x.errors)) expect(errorOf(r)).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
    const final = await getRequest(t, jane, pending.id);
    expect(final.state).toBe("COMPLETED");
    expect(commitsOf(t, pending.id)).toEqual([final.commitSha]);
    expect((await auditOf(t, pending.id)).filter((e) => e.action === "rollback.executed")).toHaveLength(1);
  });

  it("two approvers reviewing at the same instant execute the request exactly once", async () => {
    for (let round = 0; round < 3; round++) {
      const { good } = await badRelease(t);
      const pending = await mustRequest(t, jane, { targetSha: good });
      const results = await Promise.all([review(t, bob, pending.id, "APPROVE"), review(t, carol, pending.id, "APPROVE")]);
      const succeeded = results.filter((r) => !r.errors);
      expect(succeeded.length, JSON.stringify(results)).toBeGreaterThanOrEqual(1);
      for (const r of succeeded) expect(r.data!.reviewRollbackRequest.state).toBe("COMPLETED");
      for (const r of results.filter((x) => x.errors)) expect(errorOf(r)).toMatchObject({ code: "BAD_USER_INPUT", status: 400, message: NOT_PENDING });

      const final = await getRequest(t, alice, pending.id);
      expect(final.state).toBe("COMPLETED");
      expect(final.reviews).toHaveLength(1);
      expect(final.approvals).toBe(1);
      const commits = commitsOf(t, pending.id);
      expect(commits).toEqual([final.commitSha]);
      const executed = (await auditOf(t, pending.id)).filter((e) => e.action === "rollback.executed");
      expect(executed).toHaveLength(1);
    }
  });

  it("the spec's exact input errors: targetSha is required, empty field selection", async () => {
    for (const targetSha of [null, "", "   "]) {
      expectError(await requestRollback(t, jane, rollbackInput({ targetSha })), "BAD_USER_INPUT", 400, "targetSha is required");
    }
    const good = (await recentDeployments(t, jane, "acme", "production", 2)).map((d) => d.revision)[1]!;
    for (const fields of [[], null, [" "]]) {
      expectError(
        await requestRollback(t, jane, rollbackInput({ mode: "FIELD", service: "api-gateway", targetSha: good, fields })),
        "BAD_USER_INPUT",
        400,
        "selected fields cannot be empty for field mode",
      );
    }
  });
});
