import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitsOf, head, lockBranch, unlockBranch } from "../../helpers/git.js";
import { auditOf, badRelease, closeBreakGlass, getRequest, mustReview, openBreakGlass, requestRollback, retry, rollbackInput } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * A retry checks the approval requirement again at retry time: a break-glass request whose
 * session has closed goes back to PENDING (on the record) instead of executing without its
 * approvals; inside a new session of the caller it executes, naming that session.
 */
describe("retrying a break-glass request", () => {
  const t = useTestServer();
  let jane: string, bob: string;

  beforeAll(() => {
    jane = tokenOf(t, "jane");
    bob = tokenOf(t, "bob");
  });
  afterEach(() => unlockBranch(t));

  /** jane's break-glass FULL rollback in production whose write failed; the session is closed afterwards. */
  const failedBreakGlassRequest = async (): Promise<{ id: string; bad: string; sessionId: string }> => {
    const session = await openBreakGlass(t, jane);
    const { good, bad } = await badRelease(t);
    lockBranch(t);
    const err = expectError(await requestRollback(t, jane, rollbackInput({ targetSha: good })), "EXECUTION_FAILED", 500);
    unlockBranch(t);
    const id = err.extensions?.requestId as string;
    expect(await getRequest(t, jane, id)).toMatchObject({ state: "FAILED", breakGlass: true, approvals: 0, requiredApprovals: 1 });
    await closeBreakGlass(t, jane, session.id);
    return { id, bad, sessionId: session.id };
  };

  it("after the session closed, a retry does not execute with 0 of 1 approvals: the request is PENDING again and the audit trail says why", async () => {
    const { id, bad } = await failedBreakGlassRequest();

    const res = await retry(t, jane, id);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data!.retryRollbackExecution).toMatchObject({ state: "PENDING", approvals: 0, requiredApprovals: 1, commitSha: null });
    expect(head(t)).toBe(bad);
    expect(commitsOf(t, id)).toEqual([]);

    const events = await auditOf(t, id);
    expect(events.map((e) => e.action)).toEqual(["rollback.requested", "breakglass.used", "rollback.failed", "rollback.approval_required"]);
    const returned = events.at(-1)!;
    expect(returned.actor?.email).toBe("jane@example.com");
    expect(returned.breakGlass).toBe(true);
    expect(JSON.stringify(returned.details)).toMatch(/no open break-glass session/);

    // A second retry finds it PENDING, not FAILED; an approver's review now executes it with a real approval.
    expectError(await retry(t, jane, id), "BAD_USER_INPUT", 400, /not failed/);
    const done = await mustReview(t, bob, id, "APPROVE");
    expect(done.state).toBe("COMPLETED");
    expect(done.commitMessage).toContain("Approval: Approved by bob@example.com (quorum: 1/1)");
    expect(commitsOf(t, id)).toEqual([done.commitSha]);
  });

  it("inside a new session of the caller, the retry executes and its commit and audit event name that session", async () => {
    const { id, sessionId } = await failedBreakGlassRequest();
    const again = await openBreakGlass(t, jane, "INC-4712: still down");
    try {
      const res = await retry(t, jane, id);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      const done = res.data!.retryRollbackExecution;
      expect(done.state).toBe("COMPLETED");
      expect(done.commitMessage).toContain(`Approval: Bypassed by break-glass session ${again.id}`);
      expect(done.commitMessage).not.toContain(sessionId);
      const retried = (await auditOf(t, id)).find((e) => e.action === "rollback.retried")!;
      expect(retried.details).toMatchObject({ breakGlassSessionId: again.id });
    } finally {
      await closeBreakGlass(t, jane, again.id);
    }
  });
});
