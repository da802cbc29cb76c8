import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { lockBranch, unlockBranch } from "../../helpers/git.js";
import {
  AUDIT_FIELDS,
  auditEvents,
  type AuditRow,
  badRelease,
  closeBreakGlass,
  mustRequest,
  mustReview,
  openBreakGlass,
  retry,
  review,
  setPolicy,
} from "../../helpers/operations.js";
import { runCli } from "../../helpers/processes.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * The append-only, hash-chained audit trail. Every request, review, execution, failure,
 * retry, note, policy change, token creation and break-glass open/use/close is an event with
 * actor, time, subject and details; `audit verify` (CLI and in-process) finds the first broken link.
 */

describe("audit trail", () => {
  const t = useTestServer();
  let jane: string, bob: string, carol: string, alice: string, victor: string, mallory: string;
  let demoId: string;

  const seqOf = async (eventId: string): Promise<number> => {
    const rows = (await t.app.db.manager.query(`SELECT seq FROM audit_event WHERE id = ?`, [eventId])) as { seq: number }[];
    return Number(rows[0]!.seq);
  };

  beforeAll(async () => {
    [jane, bob, carol, alice, victor, mallory] = (["jane", "bob", "carol", "alice", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
    demoId = (await t.ok<{ project: { id: string } }>(alice, `{ project(slug: "demo") { id } }`)).project.id;
  });
  afterAll(async () => {
    unlockBranch(t);
  });

  it("every action is an event with actor, time, subject and details, in order", async () => {
    const before = (await auditEvents(t)).totalCount;
    const startedAt = Date.now();

    // token creation (the CLI is the only way to create tokens)
    const cli = await runCli(t, ["token", "create", "--email", "dave@example.com", "--project", "demo", "--role", "VIEWER", "--label", "audit-test"]);
    expect(cli.code, cli.stderr).toBe(0);
    const daveToken = cli.stdout.trim();
    expect((await t.ok<{ me: { email: string } }>(daveToken, `{ me { email } }`)).me.email).toBe("dave@example.com");

    // policy change (and back)
    await setPolicy(t, "staging", 2, true);
    await setPolicy(t, "staging", 0, false);

    // request, review, failure, retry, execution
    const first = await badRelease(t);
    const failing = await mustRequest(t, jane, { targetSha: first.good, justification: "audit: failing then retried" });
    lockBranch(t);
    expectError(await review(t, bob, failing.id, "APPROVE", "ok"), "EXECUTION_FAILED", 500);
    unlockBranch(t);
    expect((await retry(t, jane, failing.id)).data?.retryRollbackExecution.state).toBe("COMPLETED");

    // reject
    const second = await badRelease(t);
    const rejected = await mustRequest(t, jane, { targetSha: second.good, justification: "audit: rejected" });
    await mustReview(t, carol, rejected.id, "REJECT", "not this one");

    // note
    await t.ok(jane, `mutation($id: ID!) { addRollbackNote(id: $id, text: "postmortem: INC-9") { id } }`, { id: failing.id });

    // break-glass open, use, close
    const session = await openBreakGlass(t, jane, "audit: emergency", 15);
    const emergency = await mustRequest(t, jane, { targetSha: second.good, justification: "audit: break-glass" });
    expect(emergency.state).toBe("COMPLETED");
    await closeBreakGlass(t, jane, session.id);
    const finishedAt = Date.now();

    const all = await auditEvents(t);
    const mine = all.nodes.slice(0, all.totalCount - before).reverse(); // oldest first
    const seen = mine.map((e) => [e.action, e.actor?.email ?? null, e.subjectId, e.breakGlass]);
    expect(seen).toEqual([
      ["token.created", null, expect.any(String), false],
      ["policy.changed", "alice@example.com", "staging", false],
      ["policy.changed", "alice@example.com", "staging", false],
      ["deployment.created", "jane@example.com", expect.any(String), false],
      ["rollback.requested", "jane@example.com", failing.id, false],
      ["rollback.reviewed", "bob@example.com", failing.id, false],
      ["rollback.approved", "bob@example.com", failing.id, false],
      ["rollback.failed", "bob@example.com", failing.id, false],
      ["rollback.retried", "jane@example.com", failing.id, false],
      ["rollback.executed", "jane@example.com", failing.id, false],
      ["hold.created", "jane@example.com", failing.id, false],
      ["deployment.created", "jane@example.com", expect.any(String), false],
      ["rollback.requested", "jane@example.com", rejected.id, false],
      ["rollback.reviewed", "carol@example.com", rejected.id, false],
      ["rollback.rejected", "carol@example.com", rejected.id, false],
      ["rollback.note_added", "jane@example.com", failing.id, false],
      ["breakglass.opened", "jane@example.com", session.id, true],
      ["rollback.requested", "jane@example.com", emergency.id, true],
      ["breakglass.used", "jane@example.com", emergency.id, true],
      ["rollback.executed", "jane@example.com", emergency.id, true],
      ["hold.created", "jane@example.com", emergency.id, true],
      ["breakglass.closed", "jane@example.com", session.id, true],
    ]);

    for (const e of mine) {
      expect(e.id, e.action).toMatch(/\S/);
      expect(e.hash, e.action).toMatch(/^[0-9a-f]{64}$/);
      const at = new Date(e.at).getTime();
      expect(Number.isNaN(at), e.action).toBe(false);
      expect(at, e.action).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(at, e.action).toBeLessThanOrEqual(finishedAt + 1000);
      expect(typeof e.details, e.action).toBe("object");
      expect(Object.keys(e.details).length, e.action).toBeGreaterThan(0);
    }
    expect(new Set(all.nodes.map((e) => e.hash)).size).toBe(all.nodes.length);

    const detail = (action: string, subject?: string) => mine.find((e) => e.action === action && (!subject || e.subjectId === subject))!.details;
    // Made by the operator (CLI): no user actor, marked as such in the details.
    expect(detail("token.created")).toMatchObject({ email: "dave@example.com", role: "VIEWER", kind: "USER", via: expect.any(String) });
    expect(JSON.stringify(detail("token.created"))).not.toContain(daveToken); // never the secret
    expect(mine.filter((e) => e.action === "policy.changed").map((e) => e.details)).toEqual([
      expect.objectContaining({ environment: "staging", before: { requiredApprovals: 0, allowSelfApproval: false }, after: { requiredApprovals: 2, allowSelfApproval: true } }),
      expect.objectContaining({ environment: "staging", before: { requiredApprovals: 2, allowSelfApproval: true }, after: { requiredApprovals: 0, allowSelfApproval: false } }),
    ]);
    expect(detail("rollback.requested", failing.id)).toMatchObject({
      mode: "FULL",
      tenant: "acme",
      environment: "production",
      targetSha: first.good,
      baseSha: first.bad,
      justification: "audit: failing then retried",
    });
    expect(detail("rollback.reviewed", failing.id)).toMatchObject({ decision: "APPROVE", comment: "ok", approvals: 1, requiredApprovals: 1 });
    expect(detail("rollback.failed", failing.id)).toMatchObject({ code: "EXECUTION_FAILED", error: expect.any(String) });
    expect(detail("rollback.retried", failing.id)).toMatchObject({ attempt: 2 });
    expect(detail("rollback.executed", failing.id)).toMatchObject({ commitSha: expect.stringMatching(/^[0-9a-f]{40}$/), rolledBack: [first.bad] });
    expect(detail("rollback.reviewed", rejected.id)).toMatchObject({ decision: "REJECT", comment: "not this one" });
    expect(detail("rollback.note_added")).toMatchObject({ text: "postmortem: INC-9" });
    expect(detail("breakglass.opened")).toMatchObject({ justification: "audit: emergency", grantedMinutes: 15 });
    expect(detail("breakglass.used")).toMatchObject({ breakGlassSessionId: session.id });

    // The chain verifies, in-process and with the CLI.
    expect(await t.app.audit.verify(demoId)).toEqual({ ok: true, checked: all.totalCount, firstBreak: null });
    const verify = await runCli(t, ["audit", "verify", "--project", "demo"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`audit chain of demo: intact (${all.totalCount} events)`);
  });

  it("pages newest first with opaque cursors; only readers of the project see it", async () => {
    const q = `query($after: String) { auditEvents(project: "demo", first: 5, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { ${AUDIT_FIELDS} } } } }`;
    type Page = {
      auditEvents: { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string }; edges: { cursor: string; node: AuditRow }[] };
    };
    const p1 = (await t.ok<Page>(victor, q, { after: null })).auditEvents;
    const p2 = (await t.ok<Page>(victor, q, { after: p1.pageInfo.endCursor })).auditEvents;
    expect(p1.edges).toHaveLength(5);
    expect(p2.edges).toHaveLength(5);
    expect(p1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(p2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    expect(p2.totalCount).toBe(p1.totalCount);
    const ids = [...p1.edges, ...p2.edges].map((e) => e.node.id);
    expect(new Set(ids).size).toBe(10);
    const whole = (await auditEvents(t)).nodes.slice(0, 10).map((e) => e.id);
    expect(ids).toEqual(whole);
    expectError(await t.gql(mallory, q, { after: null }), "NOT_FOUND", 404);
    expectError(await t.gql(null, q, { after: null }), "UNAUTHENTICATED", 401);
  });

  it("refuses a cursor it did not issue, another list's cursor, and a page size out of range with BAD_USER_INPUT 400", async () => {
    const q = `query($after: String, $first: Int) { auditEvents(project: "demo", first: $first, after: $after) { totalCount } }`;
    const cursor = (text: string) => Buffer.from(text, "utf8").toString("base64url");
    for (const after of [cursor("evt:abc"), cursor("evt:-1"), cursor("dep:5"), "not-a-cursor"]) {
      expectError(await t.gql(victor, q, { after, first: 5 }), "BAD_USER_INPUT", 400, `invalid cursor "${after}"`);
    }
    expectError(await t.gql(victor, q, { after: null, first: 501 }), "BAD_USER_INPUT", 400, "first must be between 0 and 500, got 501");
  });

  it("tampering with a stored event is reported as the first broken link (CLI exit code 1); restoring it heals; deleting one is reported", async () => {
    const all = (await auditEvents(t)).nodes; // newest first
    const victim = all.find((e) => e.action === "rollback.requested")!;
    const earlier = all.find((e) => e.action === "policy.changed" && e.actor?.email === "alice@example.com")!;
    const victimSeq = await seqOf(victim.id);
    const earlierSeq = await seqOf(earlier.id);
    expect(earlierSeq).toBeLessThan(victimSeq);
    expect((await t.app.audit.verify(demoId)).ok).toBe(true);

    // 1. Edit what an event says.
    const [{ details: original }] = (await t.app.db.manager.query(`SELECT details FROM audit_event WHERE id = ?`, [victim.id])) as { details: string }[];
    const forged = JSON.stringify({ ...(JSON.parse(original!) as Record<string, unknown>), justification: "nothing to see here" });
    await t.app.db.manager.query(`UPDATE audit_event SET details = ? WHERE id = ?`, [forged, victim.id]);

    const result = await t.app.audit.verify(demoId);
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toMatchObject({ seq: victimSeq, eventId: victim.id });
    expect(result.firstBreak!.reason).toMatch(/content|hash/);
    const cli = await runCli(t, ["audit", "verify", "--project", "demo"]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`audit chain of demo: BROKEN at event #${victimSeq} (${victim.id})`);
    // The API does not hide it: the forged row is what it serves.
    expect((await auditEvents(t)).nodes.find((e) => e.id === victim.id)!.details.justification).toBe("nothing to see here");

    // Another project's chain is untouched.
    const pro = await runCli(t, ["audit", "verify", "--project", "pro"]);
    expect(pro.code, pro.stdout + pro.stderr).toBe(0);
    expect(pro.stdout).toContain("audit chain of pro: intact");

    // 2. A second, earlier edit (who did it) becomes the first broken link.
    const [{ actorId }] = (await t.app.db.manager.query(`SELECT "actorId" FROM audit_event WHERE id = ?`, [earlier.id])) as { actorId: string }[];
    expect(actorId).toBeTruthy();
    await t.app.db.manager.query(`UPDATE audit_event SET "actorId" = NULL WHERE id = ?`, [earlier.id]);
    expect((await t.app.audit.verify(demoId)).firstBreak).toMatchObject({ seq: earlierSeq, eventId: earlier.id });
    const cli2 = await runCli(t, ["audit", "verify", "--project", "demo"]);
    expect(cli2.code).toBe(1);
    expect(cli2.stdout).toContain(`BROKEN at event #${earlierSeq} (${earlier.id})`);

    // 3. Putting back exactly what was there verifies again: the hash covers the content, nothing else.
    await t.app.db.manager.query(`UPDATE audit_event SET "actorId" = ? WHERE id = ?`, [actorId, earlier.id]);
    await t.app.db.manager.query(`UPDATE audit_event SET details = ? WHERE id = ?`, [original, victim.id]);
    expect(await t.app.audit.verify(demoId)).toMatchObject({ ok: true, firstBreak: null });

    // 4. Deleting an event from the middle is reported where the gap is.
    const middle = (await auditEvents(t)).nodes[5]!;
    const middleSeq = await seqOf(middle.id);
    await t.app.db.manager.query(`DELETE FROM audit_event WHERE id = ?`, [middle.id]);
    expect(await t.app.audit.verify(demoId)).toMatchObject({ ok: false, firstBreak: { seq: middleSeq } });
    const cli3 = await runCli(t, ["audit", "verify", "--project", "demo"]);
    expect(cli3.code).toBe(1);
    expect(cli3.stdout).toContain(`BROKEN at event #${middleSeq}`);
  });
});
