import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { commitsOf, head } from "../../helpers/git.js";
import { auditEvents, auditOf, badRelease, getRequest, mustRequest, requestRollback, rollbackInput } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** Idempotent rollback requests: integration partners retry safely, and nothing is written twice. */

describe("idempotent requestRollback", () => {
  const t = useTestServer();
  let jane: string, bob: string, alice: string;

  const requestCount = async () =>
    (await t.ok<{ rollbackRequests: { totalCount: number } }>(alice, `{ rollbackRequests(project: "demo", first: 1) { totalCount } }`)).rollbackRequests.totalCount;

  /** What must not change when a call is replayed: requests, audit events, Git. */
  const snapshot = async () => ({ requests: await requestCount(), audit: (await auditEvents(t)).totalCount, head: head(t) });

  beforeAll(async () => {
    [jane, bob, alice] = (["jane", "bob", "alice"] as const).map((p) => tokenOf(t, p));
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
      const err = expectError(await requestRollback(t, jane, rollbackInput(variant), "ci-run-3003"), "BAD_USER_INPUT", 400);
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
    const results = await Promise.all([requestRollback(t, jane, rollbackInput(input), "ci-run-5005"), requestRollback(t, jane, rollbackInput(input), "ci-run-5005")]);
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
