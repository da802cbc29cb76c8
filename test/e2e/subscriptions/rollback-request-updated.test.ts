import { beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { lockBranch, unlockBranch } from "../../helpers/git.js";
import { ADD_NOTE, badRelease, mustRequest, mustReview, RETRY, ROLLBACK_REQUEST_UPDATED, type RollbackRequestView, setPolicy } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { collect, subscribe, type Subscription, warmUp } from "../../helpers/subscriptions.js";

/**
 * Live subscriptions. `rollbackRequestUpdated` delivers every state change, review and
 * note of matching requests in order, only to callers allowed to read the project; it is
 * authenticated at connection time, kept alive with pings and closed properly on shutdown.
 */

type Event = { rollbackRequestUpdated: RollbackRequestView };

describe("rollbackRequestUpdated", () => {
  const t = useTestServer();
  let jane: string, bob: string, carol: string, alice: string, victor: string, mallory: string;

  beforeAll(async () => {
    [jane, bob, carol, alice, victor, mallory] = (["jane", "bob", "carol", "alice", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
  });

  it("a dashboard filtered by tenant and environment sees PENDING, APPROVED, EXECUTING, COMPLETED in order, with the review", async () => {
    const { good } = await badRelease(t);
    const byPlace = collect<Event>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", t: "acme", e: "production" }, 4, 30_000);
    await byPlace.ready;

    const pending = await mustRequest(t, jane, { targetSha: good, justification: "watch me" });
    // A second dashboard, following just this request by id.
    const byId = collect<Event>(t.ws(alice), ROLLBACK_REQUEST_UPDATED, { p: "demo", id: pending.id }, 3, 30_000);
    await byId.ready;

    const done = await mustReview(t, bob, pending.id, "APPROVE", "go ahead");
    expect(done.state).toBe("COMPLETED");

    const seen = (await byPlace.done).map((e) => e.rollbackRequestUpdated);
    byPlace.dispose();
    expect(seen.map((r) => r.state)).toEqual(["PENDING", "APPROVED", "EXECUTING", "COMPLETED"]);
    expect(new Set(seen.map((r) => r.id))).toEqual(new Set([pending.id]));
    expect(seen[0]).toMatchObject({ reviews: [], approvals: 0, requiredApprovals: 1, commitSha: null });
    for (const r of seen.slice(1)) {
      expect(r.reviews).toEqual([expect.objectContaining({ reviewer: { email: "bob@example.com" }, decision: "APPROVE", comment: "go ahead" })]);
      expect(r.approvals).toBe(1);
    }
    expect(seen[3]).toMatchObject({ commitSha: done.commitSha, commitMessage: done.commitMessage, error: null });

    const followed = (await byId.done).map((e) => e.rollbackRequestUpdated.state);
    byId.dispose();
    expect(followed).toEqual(["APPROVED", "EXECUTING", "COMPLETED"]);
  });

  it("with a quorum of 2, each review and each note is its own event", async () => {
    await setPolicy(t, "production", 2, false);
    try {
      const { good } = await badRelease(t);
      const pending = await mustRequest(t, jane, { targetSha: good });
      const sub = collect<Event>(t.ws(jane), ROLLBACK_REQUEST_UPDATED, { p: "demo", id: pending.id }, 3, 30_000);
      await sub.ready;

      await mustReview(t, bob, pending.id, "APPROVE", "looks right");
      await t.ok(carol, ADD_NOTE, { id: pending.id, text: "checking the dashboards first" });
      await mustReview(t, carol, pending.id, "REJECT", "error rate already recovering");

      const events = (await sub.done).map((e) => e.rollbackRequestUpdated);
      sub.dispose();
      expect(events.map((r) => [r.state, r.approvals, r.reviews.length, r.notes.length])).toEqual([
        ["PENDING", 1, 1, 0],
        ["PENDING", 1, 1, 1],
        ["REJECTED", 1, 2, 1],
      ]);
      expect(events[0]!.reviews[0]).toMatchObject({ reviewer: { email: "bob@example.com" }, decision: "APPROVE", comment: "looks right" });
      expect(events[1]!.notes[0]).toMatchObject({ author: { email: "carol@example.com" }, text: "checking the dashboards first" });
      expect(events[2]!.reviews[1]).toMatchObject({ reviewer: { email: "carol@example.com" }, decision: "REJECT", comment: "error rate already recovering" });
    } finally {
      await setPolicy(t, "production", 1, false);
    }
  });

  it("a failed execution is published as FAILED with its error, and the retry as EXECUTING, COMPLETED", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    const sub = collect<Event>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", id: pending.id }, 5, 30_000);
    await sub.ready;
    lockBranch(t);
    try {
      const res = await t.gql(bob, `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { id } }`, { id: pending.id });
      expect(res.errors?.[0]?.extensions?.code).toBe("EXECUTION_FAILED");
    } finally {
      unlockBranch(t);
    }
    const retried = await t.ok<{ retryRollbackExecution: RollbackRequestView }>(jane, RETRY, { id: pending.id });
    expect(retried.retryRollbackExecution.state).toBe("COMPLETED");
    const events = (await sub.done).map((e) => e.rollbackRequestUpdated);
    sub.dispose();
    expect(events.map((r) => r.state)).toEqual(["APPROVED", "EXECUTING", "FAILED", "EXECUTING", "COMPLETED"]);
    expect(events[2]!.error).toMatch(/rollback execution failed/);
    expect(events[3]!.error).toBeNull();
    expect(events[4]!.commitSha).toBe(retried.retryRollbackExecution.commitSha);
  });

  it("a conflict on delayed execution is published as FAILED with the conflict", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });
    await badRelease(t); // a later change to the same directory
    const sub = collect<Event>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", id: pending.id }, 3, 30_000);
    await sub.ready;
    const res = await t.gql(bob, `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { id } }`, { id: pending.id });
    expect(res.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const events = (await sub.done).map((e) => e.rollbackRequestUpdated);
    sub.dispose();
    expect(events.map((r) => r.state)).toEqual(["APPROVED", "EXECUTING", "FAILED"]);
    expect(events[2]!.error).toMatch(/concurrent changes/);
  });

  it("a user of another organization cannot subscribe to demo: NOT_FOUND, like a project that does not exist", async () => {
    for (const project of ["demo", "no-such-project"]) {
      const sub = collect<Event>(t.ws(mallory), ROLLBACK_REQUEST_UPDATED, { p: project }, 1, 30_000);
      await expect(sub.done).rejects.toBeDefined();
      expect(sub.items).toEqual([]);
      const err = sub.errors[0] as { message: string; extensions?: { code?: string; status?: number } };
      expect(err.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expect(err.message).toBe(`project "${project}" not found`);
    }
  });

  it("subscriptions on another project, or another tenant, receive none of demo/acme's events", async () => {
    const onPro = collect<Event>(t.ws(jane), ROLLBACK_REQUEST_UPDATED, { p: "pro" }, 1, 30_000);
    const onGlobex = collect<Event>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", t: "globex" }, 1, 30_000);
    const onStaging = collect<Event>(t.ws(victor), ROLLBACK_REQUEST_UPDATED, { p: "demo", e: "staging" }, 1, 30_000);
    await Promise.all([onPro.ready, onGlobex.ready, onStaging.ready]);

    // demo/acme/production: a full lifecycle, none of which may reach the three subscribers...
    const acme = await badRelease(t);
    const req = await mustRequest(t, jane, { targetSha: acme.good });
    await t.ok(carol, ADD_NOTE, { id: req.id, text: "noise" });
    await mustReview(t, bob, req.id, "APPROVE");

    // ...then one event each that does match: it must be the first thing each of them saw.
    const pro = await badRelease(t, { project: "pro" });
    const proReq = await mustRequest(t, jane, { project: "pro", targetSha: pro.good });
    const globex = await badRelease(t, { tenant: "globex" });
    const globexReq = await mustRequest(t, jane, { tenant: "globex", targetSha: globex.good });
    const staging = await badRelease(t, { environment: "staging" });
    const stagingReq = await mustRequest(t, jane, { environment: "staging", targetSha: staging.good });

    const [first] = await onPro.done;
    expect(first!.rollbackRequestUpdated).toMatchObject({ id: proReq.id, project: "pro" });
    const [g] = await onGlobex.done;
    expect(g!.rollbackRequestUpdated).toMatchObject({ id: globexReq.id, project: "demo", tenant: "globex" });
    const [s] = await onStaging.done;
    expect(s!.rollbackRequestUpdated).toMatchObject({ id: stagingReq.id, environment: "staging" });
    for (const sub of [onPro, onGlobex, onStaging]) sub.dispose();
  });

  it("subscribers of one user on one request share each event's execution, yet each receives exactly its own selection, and one leaving does not disturb the others", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good, justification: "many dashboards" });
    const SLIM = `subscription($p: String!, $id: ID) { rollbackRequestUpdated(project: $p, id: $id) { id state } }`;
    const WITH_NOTES = `subscription($p: String!, $id: ID) { rollbackRequestUpdated(project: $p, id: $id) { id notes { text } reviews { decision } } }`;
    type Slim = { id: string; state: string };
    type WithNotes = { id: string; notes: { text: string }[]; reviews: { decision: string }[] };
    const slimA = subscribe<Slim>(t.ws(victor), SLIM, { p: "demo", id: pending.id }, "rollbackRequestUpdated");
    const slimB = subscribe<Slim>(t.ws(victor), SLIM, { p: "demo", id: pending.id }, "rollbackRequestUpdated");
    const leaver = subscribe<Slim>(t.ws(victor), SLIM, { p: "demo", id: pending.id }, "rollbackRequestUpdated");
    const notes = subscribe<WithNotes>(t.ws(victor), WITH_NOTES, { p: "demo", id: pending.id }, "rollbackRequestUpdated");
    const otherUser = subscribe<WithNotes>(t.ws(alice), WITH_NOTES, { p: "demo", id: pending.id }, "rollbackRequestUpdated");
    const all: Subscription<Slim | WithNotes>[] = [slimA, slimB, leaver, notes, otherUser];
    // Each subscription proves itself live with a note of its own.
    for (const [i, sub] of all.entries())
      await warmUp(
        sub,
        () => t.ok(carol, ADD_NOTE, { id: pending.id, text: `warm-up ${i}` }),
        (items) => items.length > 0,
      );

    leaver.dispose();
    await t.ok(carol, ADD_NOTE, { id: pending.id, text: "after one left" });
    expect((await mustReview(t, bob, pending.id, "REJECT", "not needed")).state).toBe("REJECTED");

    for (const sub of [slimA, slimB]) {
      const items = await sub.until((seen) => seen.some((r) => r.state === "REJECTED"));
      // Exactly the fields asked for: nothing of the other selection leaks in.
      expect(items.at(-1)).toEqual({ id: pending.id, state: "REJECTED" });
    }
    for (const sub of [notes, otherUser]) {
      const items = await sub.until((seen) => seen.some((r) => r.reviews.length > 0));
      const last = items.at(-1)!;
      expect(Object.keys(last).sort()).toEqual(["id", "notes", "reviews"]);
      expect(last.reviews).toEqual([{ decision: "REJECT" }]);
      expect(last.notes.map((n) => n.text)).toContain("after one left");
    }
    for (const sub of all) expect(sub.errors).toEqual([]);
    for (const sub of all) sub.dispose();
  });

  it("is authenticated at connection time: no token or a bad token closes the socket with 4401", async () => {
    for (const token of [null, "rbs_not-a-real-token"]) {
      const client = t.ws(token);
      const closed = new Promise<number>((resolve) => client.on("closed", (e) => resolve((e as { code: number }).code)));
      const sub = collect<Event>(client, ROLLBACK_REQUEST_UPDATED, { p: "demo" }, 1, 30_000);
      await expect(sub.done).rejects.toBeDefined();
      expect(await closed).toBe(4401);
      expect(sub.items).toEqual([]);
    }
  });
});
