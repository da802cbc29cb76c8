import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { ADD_NOTE, auditOf, badRelease, getRequest, mustRequest, mustReview, ROLLBACK_REQUEST_UPDATED, type RollbackRequestView } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { collect } from "../../helpers/subscriptions.js";

/** Notes on rollback requests: post-incident documentation, shown in order, audited and published. */

describe("notes on rollback requests", () => {
  const t = useTestServer();
  let jane: string, bob: string, carol: string, victor: string, mallory: string;

  beforeAll(async () => {
    [jane, bob, carol, victor, mallory] = (["jane", "bob", "carol", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
  });

  it("notes at any time: shown in order in `notes`, audited, published on the subscription", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });

    const sub = collect<{ rollbackRequestUpdated: RollbackRequestView }>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", id: pending.id }, 5, 30_000);
    await sub.ready;

    // VIEWER is read-only: notes need DEPLOYER or above.
    expectError(await t.gql(victor, ADD_NOTE, { id: pending.id, text: "a viewer's note" }), "FORBIDDEN", 403, /DEPLOYER/);
    const n1 = (await t.ok<{ addRollbackNote: RollbackRequestView }>(jane, ADD_NOTE, { id: pending.id, text: "customers report 500s since 14:02" })).addRollbackNote;
    expect(n1.state).toBe("PENDING");
    expect(n1.notes).toEqual([expect.objectContaining({ author: { email: "jane@example.com" }, text: "customers report 500s since 14:02" })]);

    const completed = await mustReview(t, bob, pending.id, "APPROVE"); // APPROVED, EXECUTING, COMPLETED
    expect(completed.state).toBe("COMPLETED");
    expect(completed.notes).toHaveLength(1);

    // Post-incident documentation on the finished request.
    const n2 = (await t.ok<{ addRollbackNote: RollbackRequestView }>(carol, ADD_NOTE, { id: pending.id, text: "RCA: tag v2.1.0 built from a broken branch" })).addRollbackNote;
    expect(n2.state).toBe("COMPLETED");
    expect(n2.notes.map((n) => [n.author.email, n.text])).toEqual([
      ["jane@example.com", "customers report 500s since 14:02"],
      ["carol@example.com", "RCA: tag v2.1.0 built from a broken branch"],
    ]);
    expect(new Date(n2.notes[0]!.createdAt).getTime()).toBeLessThanOrEqual(new Date(n2.notes[1]!.createdAt).getTime());
    expect((await getRequest(t, jane, pending.id)).notes).toEqual(n2.notes);

    const events = await sub.done;
    sub.dispose();
    expect(events.map((e) => [e.rollbackRequestUpdated.state, e.rollbackRequestUpdated.notes.length])).toEqual([
      ["PENDING", 1],
      ["APPROVED", 1],
      ["EXECUTING", 1],
      ["COMPLETED", 1],
      ["COMPLETED", 2],
    ]);
    expect(events[4]!.rollbackRequestUpdated.notes[1]).toMatchObject({ author: { email: "carol@example.com" }, text: "RCA: tag v2.1.0 built from a broken branch" });

    const audited = (await auditOf(t, pending.id)).filter((e) => e.action === "rollback.note_added");
    expect(audited.map((e) => [e.actor?.email, e.details.text, e.breakGlass])).toEqual([
      ["jane@example.com", "customers report 500s since 14:02", false],
      ["carol@example.com", "RCA: tag v2.1.0 built from a broken branch", false],
    ]);
  });

  it("notes on rejected requests too; empty text is refused; other organizations see nothing", async () => {
    const { good } = await badRelease(t);
    const rejected = await mustRequest(t, jane, { targetSha: good });
    await mustReview(t, carol, rejected.id, "REJECT", "no");
    const noted = (await t.ok<{ addRollbackNote: RollbackRequestView }>(jane, ADD_NOTE, { id: rejected.id, text: "ok, will fix forward instead" })).addRollbackNote;
    expect(noted).toMatchObject({ state: "REJECTED", notes: [expect.objectContaining({ text: "ok, will fix forward instead" })] });

    for (const text of ["", "   "]) expectError(await t.gql(jane, ADD_NOTE, { id: rejected.id, text }), "BAD_USER_INPUT", 400);
    expectError(await t.gql(mallory, ADD_NOTE, { id: rejected.id, text: "hello" }), "NOT_FOUND", 404);
    expectError(await t.gql(jane, ADD_NOTE, { id: "rbk-unknown", text: "hello" }), "NOT_FOUND", 404);
    expectError(await t.gql(null, ADD_NOTE, { id: rejected.id, text: "hello" }), "UNAUTHENTICATED", 401);
    expect((await getRequest(t, jane, rejected.id)).notes).toHaveLength(1);
    expectError(await t.gql(bob, ADD_NOTE, { id: rejected.id, text: "x".repeat(10_001) }), "BAD_USER_INPUT", 400, "text must be at most 10000 characters, got 10001");
  });
});
