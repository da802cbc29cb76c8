/**
 * Issue 4: idempotent rollback requests (integration partners retry safely) and notes on
 * requests (post-incident documentation: shown, audited, published).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, startTestServer, type TestServer } from "./helpers/harness.js";
import {
  ADD_NOTE,
  auditEvents,
  auditOf,
  badRelease,
  commitsOf,
  errorOf,
  expectError,
  getRequest,
  head,
  mustRequest,
  mustReview,
  requestRollback,
  SUBSCRIBE_REQUESTS,
  tokenOf,
  type Req,
} from "./helpers/issue4.js";

describe("issue 4: idempotent requestRollback", () => {
  let t: TestServer;
  let jane: string, bob: string, alice: string;

  const requestCount = async () =>
    (await t.ok<{ rollbackRequests: { totalCount: number } }>(alice, `{ rollbackRequests(project: "demo", first: 1) { totalCount } }`)).rollbackRequests.totalCount;

  /** What must not change when a call is replayed: requests, audit events, Git. */
  const snapshot = async () => ({ requests: await requestCount(), audit: (await auditEvents(t)).totalCount, head: head(t) });

  beforeAll(async () => {
    t = await startTestServer();
    [jane, bob, alice] = (["jane", "bob", "alice"] as const).map((p) => tokenOf(t, p));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("same key, same input: the same PENDING request, nothing new in the database, the audit trail or Git", async () => {
    const { good } = await badRelease(t);
    const input = { targetSha: good, justification: "INC-1: bad tag" };
    const first = await mustRequest(t, jane, input, "ci-run-1001");
    expect(first.state).toBe("PENDING");
    const before = await snapshot();

    const again = await mustRequest(t, jane, input, "ci-run-1001");
    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({ state: "PENDING", targetSha: good, justification: "INC-1: bad tag" });
    // Padding whitespace is the same input.
    const padded = await mustRequest(t, jane, { targetSha: ` ${good} `, justification: "  INC-1: bad tag  " }, "ci-run-1001");
    expect(padded.id).toBe(first.id);
    expect(await snapshot()).toEqual(before);
  });

  it("same key, same input after it executed: the same COMPLETED request and no second commit", async () => {
    // staging needs no approval: the first call executes at once.
    const { good, bad } = await badRelease(t, { environment: "staging" });
    const input = { environment: "staging", mode: "SERVICE" as const, service: "api-gateway", targetSha: good, justification: "INC-2" };
    const first = await mustRequest(t, jane, input, "ci-run-2002");
    expect(first.state).toBe("COMPLETED");
    expect(t.git("demo", "rev-parse", `${first.commitSha}^`).trim()).toBe(bad);
    const before = await snapshot();

    const again = await mustRequest(t, jane, input, "ci-run-2002");
    expect(again).toMatchObject({ id: first.id, state: "COMPLETED", commitSha: first.commitSha });
    expect(commitsOf(t, first.id)).toEqual([first.commitSha]);
    expect(await snapshot()).toEqual(before);
  });

  it("same key, different input: BAD_USER_INPUT, nothing written", async () => {
    const { good, bad } = await badRelease(t);
    const first = await mustRequest(t, jane, { targetSha: good, justification: "INC-3" }, "ci-run-3003");
    const before = await snapshot();
    const variants = [
      { targetSha: bad, justification: "INC-3" },
      { targetSha: good, justification: "INC-3, retyped" },
      { targetSha: good, justification: "INC-3", mode: "SERVICE" as const, service: "api-gateway" },
      { targetSha: good, justification: "INC-3", tenant: "globex" },
    ];
    for (const variant of variants) {
      const err = expectError(await requestRollback(t, jane, variant, "ci-run-3003"), "BAD_USER_INPUT", 400);
      expect(err.message).toContain("ci-run-3003");
    }
    expect(await snapshot()).toEqual(before);
    expect((await getRequest(t, jane, first.id)).state).toBe("PENDING");
  });

  it("keys belong to their user: another user's same key makes a new request", async () => {
    const { good } = await badRelease(t);
    const janes = await mustRequest(t, jane, { targetSha: good }, "shared-key-4004");
    const bobs = await mustRequest(t, bob, { targetSha: good }, "shared-key-4004");
    expect(bobs.id).not.toBe(janes.id);
    expect(bobs.requestedBy.email).toBe("bob@example.com");
  });

  it("two identical calls at the same instant create one request", async () => {
    const { good } = await badRelease(t);
    const before = await requestCount();
    const input = { targetSha: good, justification: "INC-5 from two CI retries" };
    const results = await Promise.all([requestRollback(t, jane, input, "ci-run-5005"), requestRollback(t, jane, input, "ci-run-5005")]);
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const [a, b] = results.map((r) => r.data!.requestRollback);
    expect(a!.id).toBe(b!.id);
    expect(await requestCount()).toBe(before + 1);
    expect((await auditOf(t, a!.id)).filter((e) => e.action === "rollback.requested")).toHaveLength(1);
  });

  it("without a key every call is a new request", async () => {
    const { good } = await badRelease(t);
    const a = await mustRequest(t, jane, { targetSha: good });
    const b = await mustRequest(t, jane, { targetSha: good });
    expect(a.id).not.toBe(b.id);
  });
});

describe("issue 4: notes on rollback requests", () => {
  let t: TestServer;
  let jane: string, bob: string, carol: string, victor: string, mallory: string;

  beforeAll(async () => {
    t = await startTestServer();
    [jane, bob, carol, victor, mallory] = (["jane", "bob", "carol", "victor", "mallory"] as const).map((p) => tokenOf(t, p));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("notes at any time: shown in order in `notes`, audited, published on the subscription", async () => {
    const { good } = await badRelease(t);
    const pending = await mustRequest(t, jane, { targetSha: good });

    const sub = collect<{ rollbackRequestUpdated: Req }>(t.ws(victor), SUBSCRIBE_REQUESTS, { p: "demo", id: pending.id }, 5, 30_000);
    await sub.ready;

    const n1 = (await t.ok<{ addRollbackNote: Req }>(victor, ADD_NOTE, { id: pending.id, text: "customers report 500s since 14:02" })).addRollbackNote;
    expect(n1.state).toBe("PENDING");
    expect(n1.notes).toEqual([expect.objectContaining({ author: { email: "victor@example.com" }, text: "customers report 500s since 14:02" })]);

    const completed = await mustReview(t, bob, pending.id, "APPROVE"); // APPROVED, EXECUTING, COMPLETED
    expect(completed.state).toBe("COMPLETED");
    expect(completed.notes).toHaveLength(1);

    // Post-incident documentation on the finished request.
    const n2 = (await t.ok<{ addRollbackNote: Req }>(carol, ADD_NOTE, { id: pending.id, text: "RCA: tag v2.1.0 built from a broken branch" })).addRollbackNote;
    expect(n2.state).toBe("COMPLETED");
    expect(n2.notes.map((n) => [n.author.email, n.text])).toEqual([
      ["victor@example.com", "customers report 500s since 14:02"],
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
      ["victor@example.com", "customers report 500s since 14:02", false],
      ["carol@example.com", "RCA: tag v2.1.0 built from a broken branch", false],
    ]);
  });

  it("notes on rejected requests too; empty text is refused; other organizations see nothing", async () => {
    const { good } = await badRelease(t);
    const rejected = await mustRequest(t, jane, { targetSha: good });
    await mustReview(t, carol, rejected.id, "REJECT", "no");
    const noted = (await t.ok<{ addRollbackNote: Req }>(jane, ADD_NOTE, { id: rejected.id, text: "ok, will fix forward instead" })).addRollbackNote;
    expect(noted).toMatchObject({ state: "REJECTED", notes: [expect.objectContaining({ text: "ok, will fix forward instead" })] });

    for (const text of ["", "   "]) expectError(await t.gql(jane, ADD_NOTE, { id: rejected.id, text }), "BAD_USER_INPUT", 400);
    expectError(await t.gql(mallory, ADD_NOTE, { id: rejected.id, text: "hello" }), "NOT_FOUND", 404);
    expectError(await t.gql(jane, ADD_NOTE, { id: "rbk-unknown", text: "hello" }), "NOT_FOUND", 404);
    expectError(await t.gql(null, ADD_NOTE, { id: rejected.id, text: "hello" }), "UNAUTHENTICATED", 401);
    expect((await getRequest(t, jane, rejected.id)).notes).toHaveLength(1);
    expect(errorOf(await t.gql(bob, ADD_NOTE, { id: rejected.id, text: "x".repeat(20_001) })).code).toBe("BAD_USER_INPUT");
  });
});
