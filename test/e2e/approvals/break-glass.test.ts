import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitsOf, head, lockBranch, unlockBranch } from "../../helpers/git.js";
import {
  auditEvents,
  auditOf,
  badRelease,
  type BreakGlassView,
  closeBreakGlass,
  currentRevision,
  getRequest,
  mustRequest,
  mustReview,
  OPEN_BREAK_GLASS,
  openBreakGlass,
  requestRollback,
  retry,
  review,
  rollbackInput,
  SET_POLICY,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * Break-glass sessions. Open one with a justification, and the owner's rollbacks in that
 * project skip approval (flagged everywhere); close or expiry ends it; it never bypasses audit,
 * plan gates, roles or authentication.
 */

const MINUTE = 60_000;
const ACTIVE_SESSION = `query($p: String!) { project(slug: $p) { activeBreakGlassSession { id expiresAt closedAt user { email } } } }`;
const PREVIEW = `query($i: RollbackInput!) { previewRollback(input: $i) { approvalRequired requiredApprovals breakGlassActive } }`;
const SESSION_NODE = `query($id: ID!) { node(id: $id) { ... on BreakGlassSession { id closedAt expiresAt justification user { email } } } }`;

function lengthMinutes(s: BreakGlassView): number {
  return (new Date(s.expiresAt).getTime() - new Date(s.openedAt).getTime()) / MINUTE;
}

describe("break-glass", () => {
  const t = useTestServer();
  let jane: string, bob: string, alice: string, victor: string, mallory: string;

  const activeSession = async (token: string, project = "demo") =>
    (await t.ok<{ project: { activeBreakGlassSession: { id: string } | null } }>(token, ACTIVE_SESSION, { p: project })).project.activeBreakGlassSession;

  /** Closes whatever session jane still has open, so each test starts without one. */
  const closeOpenSessions = async () => {
    for (const project of ["demo", "pro", "starter"]) {
      const open = await activeSession(jane, project);
      if (open) await closeBreakGlass(t, jane, open.id);
    }
  };

  beforeAll(async () => {
    [jane, bob, alice, victor, mallory] = (["jane", "bob", "alice", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
  });
  afterEach(async () => {
    unlockBranch(t);
    if (t) await closeOpenSessions();
  });

  it("open, use, close: a break-glass rollback skips approval, says so in the commit, and is flagged in the audit trail", async () => {
    const session = await openBreakGlass(t, jane, "INC-4711: checkout down, no approver reachable", 30);
    expect(session).toMatchObject({ user: { email: "jane@example.com" }, justification: "INC-4711: checkout down, no approver reachable", closedAt: null });
    expect(lengthMinutes(session)).toBe(30);
    expect((await activeSession(jane))?.id).toBe(session.id);
    expect(await activeSession(bob)).toBeNull(); // the session is jane's alone

    const { good, bad } = await badRelease(t);
    const input = { project: "demo", tenant: "acme", environment: "production", mode: "FULL", targetSha: good };
    expect((await t.ok<{ previewRollback: unknown }>(jane, PREVIEW, { i: input })).previewRollback).toEqual({
      approvalRequired: true,
      requiredApprovals: 1,
      breakGlassActive: true,
    });
    expect((await t.ok<{ previewRollback: unknown }>(bob, PREVIEW, { i: input })).previewRollback).toEqual({
      approvalRequired: true,
      requiredApprovals: 1,
      breakGlassActive: false,
    });

    const done = await mustRequest(t, jane, { targetSha: good, justification: "INC-4711 bad tag" });
    expect(done).toMatchObject({ state: "COMPLETED", breakGlass: true, approvals: 0, requiredApprovals: 1, reviews: [] });
    expect(done.commitSha).toBe(head(t));
    expect(t.git("demo", "rev-parse", `${done.commitSha}^`).trim()).toBe(bad);
    expect(done.commitMessage).toContain(`\nApproval: Bypassed by break-glass session ${session.id}\n`);
    expect(t.git("demo", "log", "-1", "--format=%B", "refs/heads/main")).toContain(`Approval: Bypassed by break-glass session ${session.id}`);
    expect(commitsOf(t, done.id)).toEqual([done.commitSha]);

    // A note under the session is flagged too.
    await t.ok(jane, `mutation($id: ID!) { addRollbackNote(id: $id, text: "rolled back under break-glass, RCA follows") { id } }`, { id: done.id });

    const events = await auditOf(t, done.id);
    expect(events.map((e) => e.action)).toEqual(["rollback.requested", "breakglass.used", "rollback.executed", "hold.created", "rollback.note_added"]);
    for (const e of events) {
      expect(e, e.action).toMatchObject({ breakGlass: true, actor: { email: "jane@example.com" } });
    }
    expect(events[0]!.details).toMatchObject({ breakGlassSessionId: session.id, approvalRequired: true });
    expect(events[1]!.details).toMatchObject({ breakGlassSessionId: session.id, bypassed: "approval" });

    const closed = await closeBreakGlass(t, jane, session.id);
    expect(closed.id).toBe(session.id);
    expect(closed.closedAt).toEqual(expect.any(String));
    expect(await activeSession(jane)).toBeNull();

    // breakGlassOnly lists exactly the flagged events: the opening, everything under it, the closing.
    const all = await auditEvents(t);
    const flagged = await auditEvents(t, { breakGlassOnly: true });
    expect(flagged.nodes.length).toBeGreaterThan(0);
    expect(flagged.nodes.every((e) => e.breakGlass)).toBe(true);
    expect(flagged.nodes.map((e) => e.id)).toEqual(all.nodes.filter((e) => e.breakGlass).map((e) => e.id));
    expect(flagged.totalCount).toBe(flagged.nodes.length);
    expect(flagged.totalCount).toBeLessThan(all.totalCount);
    const bySession = flagged.nodes.filter((e) => e.subjectId === session.id).map((e) => e.action);
    expect(bySession.sort()).toEqual(["breakglass.closed", "breakglass.opened"]);
    const ofRequest = flagged.nodes.filter((e) => e.subjectId === done.id).map((e) => e.action);
    expect(ofRequest.sort()).toEqual(["breakglass.used", "hold.created", "rollback.executed", "rollback.note_added", "rollback.requested"]);
    const opened = flagged.nodes.find((e) => e.subjectId === session.id && e.action === "breakglass.opened")!;
    expect(opened).toMatchObject({
      actor: { email: "jane@example.com" },
      details: expect.objectContaining({ justification: "INC-4711: checkout down, no approver reachable", grantedMinutes: 30 }),
    });

    // Closed: the next request of hers needs approval again.
    const next = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: next.good });
    expect(pending).toMatchObject({ state: "PENDING", breakGlass: false });
    expect(head(t)).toBe(next.bad);
    expect((await auditOf(t, pending.id)).every((e) => !e.breakGlass)).toBe(true);
  });

  it("a session only bypasses its owner's approvals, in its own project", async () => {
    await openBreakGlass(t, jane);
    const { good } = await badRelease(t);
    // Bob has no session: his request waits for approval.
    const bobs = await mustRequest(t, bob, { targetSha: good });
    expect(bobs).toMatchObject({ state: "PENDING", breakGlass: false });
    // Jane's session in pro does not help her in demo (and the other way round).
    await closeOpenSessions();
    await openBreakGlass(t, jane, "incident in pro", 60, "pro");
    const hers = await mustRequest(t, jane, { targetSha: good });
    expect(hers).toMatchObject({ state: "PENDING", breakGlass: false });
  });

  it("a justification is required", async () => {
    for (const j of ["", "   "]) {
      expectError(await t.gql(jane, OPEN_BREAK_GLASS, { p: "demo", j, m: 30 }), "BAD_USER_INPUT", 400);
    }
    expect(await activeSession(jane)).toBeNull();
    expect((await auditEvents(t, { breakGlassOnly: true })).nodes.filter((e) => e.action === "breakglass.opened" && e.details.justification === "")).toEqual([]);
  });

  it("VIEWER cannot open a session (FORBIDDEN); another organization gets NOT_FOUND", async () => {
    const before = (await auditEvents(t)).totalCount;
    expectError(await t.gql(victor, OPEN_BREAK_GLASS, { p: "demo", j: "let me in", m: 30 }), "FORBIDDEN", 403);
    expectError(await t.gql(mallory, OPEN_BREAK_GLASS, { p: "demo", j: "let me in", m: 30 }), "NOT_FOUND", 404);
    expectError(await t.gql(null, OPEN_BREAK_GLASS, { p: "demo", j: "let me in", m: 30 }), "UNAUTHENTICATED", 401);
    expect(await activeSession(victor)).toBeNull();
    expect((await auditEvents(t)).totalCount).toBe(before);
  });

  it("expiry: once expiresAt has passed the session bypasses nothing, and expireSessions records breakglass.expired", async () => {
    const session = await openBreakGlass(t, jane, "INC-4712", 1);
    expect(lengthMinutes(session)).toBe(1);
    expect((await activeSession(jane))?.id).toBe(session.id);
    // Waiting a minute is not practical: move its expiry into the past, in the store.
    const past = "2000-01-01 00:00:00.000";
    await t.app.db.manager.query(`UPDATE break_glass_session SET "expiresAt" = ? WHERE id = ?`, [past, session.id]);
    expect(await activeSession(jane)).toBeNull();

    const { good, bad } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    expect(pending).toMatchObject({ state: "PENDING", breakGlass: false });
    expect(head(t)).toBe(bad);

    // The maintenance loop may get there first; either way exactly one expiry is recorded.
    await t.app.approvals.expireSessions();
    await t.app.approvals.expireSessions();
    const expired = (await auditOf(t, session.id)).filter((e) => e.action === "breakglass.expired");
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ breakGlass: true, actor: null, subjectId: session.id });
    const node = (await t.ok<{ node: { closedAt: string | null; expiresAt: string } }>(jane, SESSION_NODE, { id: session.id })).node;
    expect(node.closedAt).toBe(new Date("2000-01-01T00:00:00.000Z").toISOString());
    expect(node.expiresAt).toBe(node.closedAt);

    // A new session can be opened after expiry.
    const again = await openBreakGlass(t, jane, "INC-4712 continued", 10);
    expect(again.id).not.toBe(session.id);
  });

  it("only one open session per user and project: a second open is CONFLICT", async () => {
    const first = await openBreakGlass(t, jane);
    expectError(await t.gql(jane, OPEN_BREAK_GLASS, { p: "demo", j: "again", m: 10 }), "CONFLICT", 409);
    expect((await activeSession(jane))?.id).toBe(first.id);
  });

  it("the duration defaults to 60 minutes and longer requests are capped at the configured maximum (default 60)", async () => {
    const byDefault = await openBreakGlass(t, jane, "default duration");
    expect(lengthMinutes(byDefault)).toBe(60);
    await closeBreakGlass(t, jane, byDefault.id);
    const long = await openBreakGlass(t, jane, "a very long incident", 600);
    expect(lengthMinutes(long)).toBe(60);
    const opened = (await auditOf(t, long.id)).find((e) => e.action === "breakglass.opened")!;
    expect(opened.details).toMatchObject({ requestedMinutes: 600, grantedMinutes: 60 });
    expectError(await t.gql(jane, OPEN_BREAK_GLASS, { p: "demo", j: "negative", m: 0 }), "BAD_USER_INPUT", 400);
  });

  it("break-glass never bypasses plan gates", async () => {
    // pro is PRO (no FIELD mode), starter is FREE (no SERVICE or FIELD mode).
    await openBreakGlass(t, jane, "incident in pro", 30, "pro");
    await openBreakGlass(t, jane, "incident in starter", 30, "starter");
    const proGood = (await badRelease(t, { project: "pro" })).good;
    const starterGood = (await badRelease(t, { project: "starter" })).good;
    const proHead = head(t, "pro");
    const starterHead = head(t, "starter");

    const field = await requestRollback(t, jane, rollbackInput({ project: "pro", mode: "FIELD", service: "api-gateway", fields: ["image.tag"], targetSha: proGood }));
    expectError(field, "FORBIDDEN", 403, /ENTERPRISE/);
    for (const mode of ["SERVICE", "FIELD"] as const) {
      const res = await requestRollback(
        t,
        jane,
        rollbackInput({ project: "starter", mode, service: "api-gateway", fields: mode === "FIELD" ? ["image.tag"] : null, targetSha: starterGood }),
      );
      expectError(res, "FORBIDDEN", 403, /plan/);
    }
    expect(head(t, "pro")).toBe(proHead);
    expect(head(t, "starter")).toBe(starterHead);
    // What the plan allows still works (these organizations have no rollback_approval: it executes at once).
    const full = await mustRequest(t, jane, { project: "pro", mode: "SERVICE", service: "api-gateway", targetSha: proGood });
    expect(full.state).toBe("COMPLETED");
  });

  it("break-glass never bypasses roles: the session owner still cannot review or change policies", async () => {
    await openBreakGlass(t, jane);
    const { good } = await badRelease(t);
    const bobs = await mustRequest(t, bob, { targetSha: good });
    expectError(await review(t, jane, bobs.id, "APPROVE"), "FORBIDDEN", 403);
    expectError(await t.gql(jane, SET_POLICY, { p: "demo", e: "production", n: 0, self: false }), "FORBIDDEN", 403);
    expect((await getRequest(t, jane, bobs.id)).state).toBe("PENDING");
    // And never authentication: without a token nothing happens.
    expectError(await requestRollback(t, "", rollbackInput({ targetSha: good })), "UNAUTHENTICATED", 401);
    expect((await mustReview(t, alice, bobs.id, "REJECT")).state).toBe("REJECTED");
  });

  it("a break-glass rollback that fails and is retried stays flagged in every audit event", async () => {
    const session = await openBreakGlass(t, jane);
    const { good, bad } = await badRelease(t);
    lockBranch(t);
    const res = await requestRollback(t, jane, rollbackInput({ targetSha: good }));
    const err = expectError(res, "EXECUTION_FAILED", 500);
    const id = err.extensions?.requestId as string;
    expect(id).toMatch(/^rbk-/);
    expect(await getRequest(t, jane, id)).toMatchObject({ state: "FAILED", breakGlass: true });
    expect(head(t)).toBe(bad);
    unlockBranch(t);

    const done = (await retry(t, jane, id)).data!.retryRollbackExecution;
    expect(done).toMatchObject({ state: "COMPLETED", breakGlass: true });
    expect(done.commitMessage).toContain(`Approval: Bypassed by break-glass session ${session.id}`);
    const events = await auditOf(t, id);
    expect(events.map((e) => e.action)).toEqual(["rollback.requested", "breakglass.used", "rollback.failed", "rollback.retried", "rollback.executed", "hold.created"]);
    for (const e of events) expect(e.breakGlass, e.action).toBe(true);
  });

  it("an ADMIN can close someone else's session; an APPROVER cannot", async () => {
    const session = await openBreakGlass(t, jane);
    expectError(await t.gql(bob, `mutation($id: ID!) { closeBreakGlassSession(id: $id) { id } }`, { id: session.id }), "FORBIDDEN", 403);
    expectError(await t.gql(mallory, `mutation($id: ID!) { closeBreakGlassSession(id: $id) { id } }`, { id: session.id }), "NOT_FOUND", 404);
    const closed = await closeBreakGlass(t, alice, session.id);
    expect(closed.closedAt).toEqual(expect.any(String));
    const events = await auditOf(t, session.id);
    expect(events.map((e) => [e.action, e.actor?.email])).toEqual([
      ["breakglass.opened", "jane@example.com"],
      ["breakglass.closed", "alice@example.com"],
    ]);
  });
});

describe("break-glass duration cap from configuration", () => {
  const t = useTestServer({ env: { BREAK_GLASS_MAX_MINUTES: "5" } });

  it("caps longer sessions at BREAK_GLASS_MAX_MINUTES and records both durations", async () => {
    const jane = tokenOf(t, "jane");
    const session = await openBreakGlass(t, jane, "capped", 120);
    expect(lengthMinutes(session)).toBe(5);
    const opened = (await auditOf(t, session.id)).find((e) => e.action === "breakglass.opened")!;
    expect(opened.details).toMatchObject({ requestedMinutes: 120, grantedMinutes: 5 });
    await closeBreakGlass(t, jane, session.id);
    // Shorter ones are granted as asked; the default (60) is capped too.
    expect(lengthMinutes(await openBreakGlass(t, jane, "short", 3))).toBe(3);
    const bob = tokenOf(t, "bob");
    expect(lengthMinutes(await openBreakGlass(t, bob, "default"))).toBe(5);
    expect(await currentRevision(t, "acme", "production")).toMatch(/^[0-9a-f]{40}$/);
  });
});
