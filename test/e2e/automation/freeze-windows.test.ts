import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken } from "../../helpers/fixtures.js";
import { head, lockBranch, unlockBranch } from "../../helpers/git.js";
import {
  auditEvents,
  auditOf,
  closeBreakGlass,
  getRequest,
  historyRevisions,
  mustRequest,
  openBreakGlass,
  REPORT_SYNC,
  requestRollback,
  retry,
  rollbackInput,
  review,
  uniqueTag,
} from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";
import {
  automaticRequests,
  createFreeze,
  deleteFreeze,
  FREEZE_FIELDS,
  frozenMessage,
  minutesFromNow,
  mustDeploy,
  mustFreeze,
  mustSetAutoRollback,
  tryDeploy,
  type Freeze,
} from "../../helpers/automation.js";

/**
 * Freeze windows: while one is open, deploys to its environment are refused (403), rollbacks go
 * through unless the window says otherwise, and the caller's break-glass session overrides both,
 * flagged in the audit trail.
 */
describe("freeze windows", () => {
  let t: TestServer;
  let jane: string;
  let alice: string;

  beforeAll(async () => {
    t = await startTestServer();
    jane = tokenOf(t, "jane");
    alice = tokenOf(t, "alice");
  });
  afterAll(async () => {
    await t?.stop();
  });

  const frozenQuery = `query($p: String!, $t: String!, $e: String!, $at: DateTime) {
    tenantEnvironment(project: $p, tenant: $t, environment: $e) { activeFreeze { id } }
    project(slug: $p) { freezeWindows(activeAt: $at) { ${FREEZE_FIELDS} } } }`;

  it("createFreezeWindow and deleteFreezeWindow: ADMIN only, validated, listed, audited", async () => {
    const start = minutesFromNow(-1);
    const end = minutesFromNow(60);
    expectError(await createFreeze(t, jane, { environment: "dev", startsAt: start, endsAt: end, reason: "release train" }), "FORBIDDEN", 403, /ADMIN or higher is required/);
    expectError(await createFreeze(t, tokenOf(t, "mallory"), { environment: "dev", startsAt: start, endsAt: end, reason: "x" }), "NOT_FOUND", 404);
    expectError(await createFreeze(t, alice, { environment: "qa", startsAt: start, endsAt: end, reason: "x" }), "NOT_FOUND", 404, `environment "qa" not found in project "demo"`);
    expectError(
      await createFreeze(t, alice, { environment: "dev", startsAt: end, endsAt: start, reason: "x" }),
      "BAD_USER_INPUT",
      400,
      `endsAt (${start.toISOString()}) must be after startsAt (${end.toISOString()})`,
    );
    expectError(
      await createFreeze(t, alice, { environment: "dev", startsAt: minutesFromNow(-120), endsAt: minutesFromNow(-60), reason: "x" }),
      "BAD_USER_INPUT",
      400,
      /is in the past: a freeze window must end in the future$/,
    );
    expectError(
      await createFreeze(t, alice, { environment: "dev", startsAt: start, endsAt: minutesFromNow(91 * 24 * 60), reason: "x" }),
      "BAD_USER_INPUT",
      400,
      "a freeze window lasts at most 90 days",
    );
    expectError(await createFreeze(t, alice, { environment: "dev", startsAt: start, endsAt: end, reason: "  " }), "BAD_USER_INPUT", 400, /^reason is required/);
    expectError(
      await createFreeze(t, alice, { environment: "dev", startsAt: start, endsAt: end, reason: "two\nlines" }),
      "BAD_USER_INPUT",
      400,
      "reason must not contain control characters or line breaks",
    );
    expectError(
      await createFreeze(t, alice, { environment: "dev", startsAt: start, endsAt: end, reason: "r".repeat(501) }),
      "BAD_USER_INPUT",
      400,
      "reason must be at most 500 characters, got 501",
    );
    expectError(await createFreeze(t, alice, { environment: "dev", startsAt: "yesterday", endsAt: end, reason: "x" }), "BAD_USER_INPUT", 400);

    const upcoming = await mustFreeze(t, { environment: "dev", startsAt: minutesFromNow(24 * 60), endsAt: minutesFromNow(26 * 60), reason: "tomorrow's maintenance" });
    const open = await mustFreeze(t, { environment: "dev", startsAt: start, endsAt: end, reason: "quarter close" });
    expect(open).toMatchObject({ environment: "dev", reason: "quarter close", allowRollbacks: true, active: true, createdBy: { email: "alice@example.com" } });
    expect(upcoming.active).toBe(false);

    const now = await t.ok<{ tenantEnvironment: { activeFreeze: { id: string } | null }; project: { freezeWindows: Freeze[] } }>(tokenOf(t, "victor"), frozenQuery, {
      p: "demo",
      t: "acme",
      e: "dev",
      at: null,
    });
    expect(now.tenantEnvironment.activeFreeze).toEqual({ id: open.id });
    expect(now.project.freezeWindows.map((w) => w.id)).toEqual([open.id, upcoming.id]);
    const tomorrow = await t.ok<{ project: { freezeWindows: Freeze[] } }>(tokenOf(t, "victor"), frozenQuery, {
      p: "demo",
      t: "acme",
      e: "dev",
      at: minutesFromNow(25 * 60).toISOString(),
    });
    expect(tomorrow.project.freezeWindows.map((w) => w.id)).toEqual([upcoming.id]);
    const node = await t.ok<{ node: unknown }>(jane, `query($id: ID!) { node(id: $id) { id ... on FreezeWindow { reason } } }`, { id: open.id });
    expect(node.node).toEqual({ id: open.id, reason: "quarter close" });

    expectError(await deleteFreeze(t, jane, open.id), "FORBIDDEN", 403);
    expect((await deleteFreeze(t, alice, open.id)).data?.deleteFreezeWindow).toMatchObject({ id: open.id, reason: "quarter close" });
    expectError(await deleteFreeze(t, alice, open.id), "NOT_FOUND", 404, `freeze window "${open.id}" not found`);
    await deleteFreeze(t, alice, upcoming.id);
    const after = await t.ok<{ tenantEnvironment: { activeFreeze: unknown } }>(tokenOf(t, "victor"), frozenQuery, { p: "demo", t: "acme", e: "dev", at: null });
    expect(after.tenantEnvironment.activeFreeze).toBeNull();
    expect((await auditOf(t, open.id)).map((e) => [e.action, e.actor?.email])).toEqual([
      ["freeze.created", "alice@example.com"],
      ["freeze.deleted", "alice@example.com"],
    ]);
  });

  it("a freeze refuses a deploy (nothing written) and lets a rollback through, on the record", async () => {
    const [good] = await historyRevisions(t, jane, "demo", "acme", "staging", 1);
    const released = await mustDeploy(t, jane, { tenant: "acme", environment: "staging", service: "web", set: { "image.tag": uniqueTag("v5") } });
    const freeze = await mustFreeze(t, { environment: "staging", startsAt: minutesFromNow(-5), endsAt: minutesFromNow(120), reason: "Black Friday change freeze" });

    const before = head(t);
    const refused = await tryDeploy(t, jane, { tenant: "acme", environment: "staging", service: "web", set: { replicas: 3 } });
    const err = expectError(refused, "FORBIDDEN", 403, frozenMessage(freeze));
    expect(err.message).toBe(`environment staging is frozen until ${freeze.endsAt}: Black Friday change freeze`);
    expect(err.extensions).toMatchObject({ freezeWindowId: freeze.id, endsAt: freeze.endsAt });
    expect(head(t)).toBe(before);
    // Other environments are not frozen.
    await mustDeploy(t, jane, { tenant: "acme", environment: "dev", service: "web", set: { "image.tag": uniqueTag("v5") } });

    const rollback = await mustRequest(t, jane, { environment: "staging", mode: "FULL", targetSha: good!, justification: "web broke during the freeze" });
    expect(rollback.state).toBe("COMPLETED");
    expect(rollback.commitSha).not.toBe(released.revision);
    const allowed = (await auditOf(t, rollback.id)).find((e) => e.action === "freeze.rollback_allowed");
    expect(allowed).toMatchObject({ breakGlass: false, details: { freezeWindowId: freeze.id, reason: "Black Friday change freeze" } });
    await deleteFreeze(t, alice, freeze.id);
  });

  it("allowRollbacks: false refuses rollback requests and the approval that would execute one", async () => {
    const [, previous] = await historyRevisions(t, jane, "demo", "globex", "production", 2);
    // Requested before the freeze, approved during it.
    const pending = await mustRequest(t, jane, { tenant: "globex", mode: "FULL", targetSha: previous!, justification: "queued before the freeze" });
    expect(pending.state).toBe("PENDING");
    const freeze = await mustFreeze(t, {
      environment: "production",
      startsAt: minutesFromNow(-1),
      endsAt: minutesFromNow(90),
      reason: "audit week: no changes at all",
      allowRollbacks: false,
    });

    expectError(
      await requestRollback(t, jane, rollbackInput({ tenant: "globex", mode: "FULL", targetSha: previous!, justification: "during the freeze" })),
      "FORBIDDEN",
      403,
      frozenMessage(freeze),
    );
    const requests = await t.ok<{ rollbackRequests: { totalCount: number } }>(
      jane,
      `{ rollbackRequests(project: "demo", tenant: "globex", environment: "production") { totalCount } }`,
    );
    expect(requests.rollbackRequests.totalCount).toBe(1);

    const bob = tokenOf(t, "bob");
    expectError(await review(t, bob, pending.id, "APPROVE"), "FORBIDDEN", 403, frozenMessage(freeze));
    const still = await t.ok<{ rollbackRequest: { state: string; reviews: unknown[] } }>(jane, `query($id: ID!) { rollbackRequest(id: $id) { state reviews { decision } } }`, {
      id: pending.id,
    });
    expect(still.rollbackRequest).toEqual({ state: "PENDING", reviews: [] });

    // Break-glass overrides it: the reviewer's own session.
    const session = await openBreakGlass(t, bob, "INC-77: production down during audit week", 10);
    const approved = await review(t, bob, pending.id, "APPROVE");
    expect(approved.data?.reviewRollbackRequest.state).toBe("COMPLETED");
    await closeBreakGlass(t, bob, session.id);
    const overridden = (await auditOf(t, pending.id)).find((e) => e.action === "freeze.overridden");
    expect(overridden).toMatchObject({ breakGlass: true, actor: { email: "bob@example.com" }, details: { freezeWindowId: freeze.id, breakGlassSessionId: session.id } });
    await deleteFreeze(t, alice, freeze.id);
  });

  it("a retry during a freeze that forbids rollbacks is refused and leaves the request FAILED", async () => {
    const [, previous] = await historyRevisions(t, jane, "demo", "globex", "staging", 2);
    lockBranch(t);
    let failed;
    try {
      failed = await requestRollback(
        t,
        jane,
        rollbackInput({ tenant: "globex", environment: "staging", mode: "FULL", targetSha: previous!, justification: "first attempt fails" }),
      );
    } finally {
      unlockBranch(t);
    }
    const id = expectError(failed, "EXECUTION_FAILED", 500).extensions!.requestId as string;
    const freeze = await mustFreeze(t, { environment: "staging", startsAt: minutesFromNow(-1), endsAt: minutesFromNow(30), reason: "staging frozen", allowRollbacks: false });
    expectError(await retry(t, jane, id), "FORBIDDEN", 403, frozenMessage(freeze));
    expect((await getRequest(t, jane, id)).state).toBe("FAILED");
    await deleteFreeze(t, alice, freeze.id);
    expect((await retry(t, jane, id)).data?.retryRollbackExecution.state).toBe("COMPLETED");
  });

  it("break-glass overrides a freeze for deploys and rollbacks, flagged in the audit trail", async () => {
    const freeze = await mustFreeze(t, { environment: "dev", startsAt: minutesFromNow(-1), endsAt: minutesFromNow(30), reason: "dev freeze", allowRollbacks: false });
    const tag = uniqueTag("v6");
    expectError(await tryDeploy(t, jane, { tenant: "globex", environment: "dev", service: "auth", set: { "image.tag": tag } }), "FORBIDDEN", 403, frozenMessage(freeze));

    const session = await openBreakGlass(t, jane, "SEV1: hotfix needed now", 10);
    const [good] = await historyRevisions(t, jane, "demo", "globex", "dev", 1);
    const hotfix = await mustDeploy(t, jane, { tenant: "globex", environment: "dev", service: "auth", set: { "image.tag": tag } });
    const rollback = await mustRequest(t, jane, { tenant: "globex", environment: "dev", mode: "SERVICE", service: "auth", targetSha: good!, justification: "hotfix broke auth" });
    expect(rollback.state).toBe("COMPLETED");
    await closeBreakGlass(t, jane, session.id);

    const flagged = (await auditEvents(t, { breakGlassOnly: true })).nodes.filter((e) => e.action === "freeze.overridden" && e.details.freezeWindowId === freeze.id);
    expect(flagged.map((e) => [e.subjectId, e.actor?.email, e.details.breakGlassSessionId, e.details.freezeWindowId])).toEqual([
      [rollback.id, "jane@example.com", session.id, freeze.id],
      [hotfix.id, "jane@example.com", session.id, freeze.id],
    ]);
    // Without the session, the freeze holds again.
    expectError(await tryDeploy(t, jane, { tenant: "globex", environment: "dev", service: "auth", set: { replicas: 2 } }), "FORBIDDEN", 403, frozenMessage(freeze));
    await deleteFreeze(t, alice, freeze.id);
  });

  it("an automatic rollback respects allowRollbacks: refused during a freeze that forbids rollbacks, with the reason in the trail", async () => {
    const agent = await agentToken(t, "demo");
    await mustSetAutoRollback(t, { environment: "staging", enabled: true, mode: "SERVICE" });
    const good = (await historyRevisions(t, jane, "demo", "globex", "staging", 1))[0]!;
    await t.ok(agent, REPORT_SYNC, { i: { project: "demo", tenant: "globex", environment: "staging", revision: good, state: "SYNCED", health: "Healthy" } });
    const released = await mustDeploy(t, jane, { tenant: "globex", environment: "staging", service: "billing", set: { "image.tag": uniqueTag("v7") } });
    const freeze = await mustFreeze(t, { environment: "staging", startsAt: minutesFromNow(-1), endsAt: minutesFromNow(30), reason: "no rollbacks either", allowRollbacks: false });
    await t.ok(agent, REPORT_SYNC, { i: { project: "demo", tenant: "globex", environment: "staging", revision: released.revision, state: "SYNCED", health: "Degraded" } });
    expect(await automaticRequests(t, "globex", "staging")).toEqual([]);
    const refused = (await auditOf(t, released.id)).find((e) => e.action === "autorollback.refused");
    expect(refused).toMatchObject({ actor: { email: "auto-rollback" }, details: { service: "billing", code: "FORBIDDEN", reason: frozenMessage(freeze) } });
    await deleteFreeze(t, alice, freeze.id);
  });
});
