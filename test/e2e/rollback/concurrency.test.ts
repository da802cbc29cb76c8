import { afterEach, describe, expect, it } from "vitest";
import { eventually, expectError, expectNoInternals } from "../../helpers/assertions.js";
import { commitCount, entryId, fileAt, head, isAncestor, tenantEnvironmentTrees } from "../../helpers/git.js";
import { DEPLOY, type DeploymentView, fullHistory, requestRollback, type RollbackRequestView } from "../../helpers/operations.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

/**
 * Two writers never lose each other's commits. Nothing here
 * depends on timing: the outcomes allowed are the ones the spec allows, whatever the order.
 */
describe("concurrent writers", () => {
  let t: TestServer | undefined;

  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("two concurrent full rollbacks of one tenant-environment: both land or one is refused, and the branch loses no commit", async () => {
    t = await startTestServer();
    const server = t;
    const jane = server.tokens["jane@example.com"]!;
    const alice = server.tokens["alice@example.com"]!;
    const history = await fullHistory(server, jane, "acme", "staging");
    const headBefore = head(server);
    const commitsBefore = commitCount(server);
    const treesBefore = tenantEnvironmentTrees(server, headBefore);
    const targets = [history[4]!, history[9]!];

    const results = await Promise.all([
      requestRollback(server, jane, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: targets[0]!.revision, justification: "first responder" }),
      requestRollback(server, alice, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: targets[1]!.revision, justification: "second responder" }),
    ]);

    const completed: { request: RollbackRequestView; target: DeploymentView }[] = [];
    results.forEach((res, i) => {
      expectNoInternals(res);
      if (res.errors) {
        // Refused: a code from the spec's table, and when it is a conflict, the message names both revisions.
        expect(res.errors).toHaveLength(1);
        const ext = res.errors[0]!.extensions!;
        expect(["CONFLICT", "BAD_USER_INPUT"]).toContain(ext.code);
        expect(ext.status).toBe(ext.code === "CONFLICT" ? 409 : 400);
        if (ext.code === "CONFLICT") expect(res.errors[0]!.message).toMatch(/revision [0-9a-f]{7}.*revision [0-9a-f]{7}/s);
      } else {
        expect(res.data!.requestRollback.state).toBe("COMPLETED");
        completed.push({ request: res.data!.requestRollback, target: targets[i]! });
      }
    });
    expect(completed.length).toBeGreaterThanOrEqual(1);

    // The branch only moved forward, by exactly the completed rollbacks.
    const headAfter = head(server);
    expect(isAncestor(server, headBefore, headAfter)).toBe(true);
    expect(commitCount(server)).toBe(commitsBefore + completed.length);
    for (const { request } of completed) expect(isAncestor(server, request.commitSha!, headAfter), request.id).toBe(true);
    for (const d of history) expect(isAncestor(server, d.revision, headAfter)).toBe(true);

    // The directory is the target of the rollback that landed last.
    const last = completed.find(({ request }) => request.commitSha === headAfter)!;
    expect(last).toBeDefined();
    expect(entryId(server, headAfter, "tenants/acme/staging")).toBe(entryId(server, last.target.revision, "tenants/acme/staging"));

    // Other tenant-environments untouched.
    const treesAfter = tenantEnvironmentTrees(server, headAfter);
    for (const key of Object.keys(treesBefore)) if (key !== "acme/staging") expect(treesAfter[key], key).toBe(treesBefore[key]);

    // The history has one ROLLBACK deployment per landed commit, newest on top.
    const after = await fullHistory(server, jane, "acme", "staging");
    expect(after).toHaveLength(history.length + completed.length);
    expect(after[0]!.revision).toBe(headAfter);
    expect(after.slice(0, completed.length).every((d) => d.source === "ROLLBACK")).toBe(true);

    // A refused request is not left half-done: it is FAILED with its reason, or was never created.
    const list = await server.ok<{ rollbackRequests: { nodes: { id: string; state: string; commitSha: string | null; error: string | null }[] } }>(
      jane,
      `{ rollbackRequests(project:"demo",tenant:"acme",environment:"staging"){ nodes { id state commitSha error } } }`,
    );
    for (const r of list.rollbackRequests.nodes) {
      expect(["COMPLETED", "FAILED"]).toContain(r.state);
      if (r.state === "FAILED") {
        expect(r.commitSha).toBeNull();
        expect(r.error).toBeTruthy();
      }
    }
    expect(list.rollbackRequests.nodes.filter((r) => r.state === "COMPLETED")).toHaveLength(completed.length);
  });

  it("four concurrent full rollbacks of one tenant-environment never lose a commit", async () => {
    t = await startTestServer();
    const server = t;
    const jane = server.tokens["jane@example.com"]!;
    const history = await fullHistory(server, jane, "globex", "staging");
    const headBefore = head(server);
    const commitsBefore = commitCount(server);
    const results = await Promise.all(
      [2, 5, 8, 11].map((i) =>
        requestRollback(server, jane, { project: "demo", tenant: "globex", environment: "staging", mode: "FULL", targetSha: history[i]!.revision, justification: `race ${i}` }),
      ),
    );
    const landed = results.filter((r) => !r.errors).map((r) => r.data!.requestRollback);
    for (const r of results) {
      expectNoInternals(r);
      if (r.errors) expect(["CONFLICT", "BAD_USER_INPUT"]).toContain(r.errors[0]!.extensions!.code);
    }
    expect(landed.length).toBeGreaterThanOrEqual(1);
    expect(commitCount(server)).toBe(commitsBefore + landed.length);
    const headAfter = head(server);
    expect(isAncestor(server, headBefore, headAfter)).toBe(true);
    for (const r of landed) expect(isAncestor(server, r.commitSha!, headAfter)).toBe(true);
  });

  it("a deploy to another tenant while a rollback executes: both land, neither is lost", async () => {
    // Every rollback execution pauses before its commit, so the deploy is sent while one is EXECUTING.
    t = await startTestServer({ env: { EXECUTION_PAUSE_AT: "before-commit", EXECUTION_PAUSE_MS: "1500" } });
    const server = t;
    const jane = server.tokens["jane@example.com"]!;
    const bob = server.tokens["bob@example.com"]!;
    const history = await fullHistory(server, jane, "acme", "staging");
    const target = history[6]!;
    const headBefore = head(server);
    const commitsBefore = commitCount(server);

    const rollback = requestRollback(server, jane, {
      project: "demo",
      tenant: "acme",
      environment: "staging",
      mode: "FULL",
      targetSha: target.revision,
      justification: "rollback while others deploy",
    });
    const executing = await eventually(async () => {
      const data = await server.ok<{ rollbackRequests: { nodes: { id: string; state: string }[] } }>(
        bob,
        `{ rollbackRequests(project:"demo",tenant:"acme",environment:"staging"){ nodes { id state } } }`,
      );
      return data.rollbackRequests.nodes.find((r) => r.state === "EXECUTING" || r.state === "COMPLETED");
    }, "the rollback to start executing");
    expect(executing.state).toBe("EXECUTING");

    const deploy = server.gql<{ deploy: DeploymentView }>(bob, DEPLOY, {
      input: { project: "demo", tenant: "globex", environment: "staging", service: "billing", set: { "image.tag": "v3.3.3" } },
    });
    const [rolled, deployed] = await Promise.all([rollback, deploy]);

    expect(rolled.errors, JSON.stringify(rolled.errors)).toBeUndefined();
    expect(deployed.errors, JSON.stringify(deployed.errors)).toBeUndefined();
    const request = rolled.data!.requestRollback;
    const deployment = deployed.data!.deploy;
    expect(request.state).toBe("COMPLETED");

    const headAfter = head(server);
    expect(isAncestor(server, headBefore, headAfter)).toBe(true);
    expect(isAncestor(server, request.commitSha!, headAfter)).toBe(true);
    expect(isAncestor(server, deployment.revision, headAfter)).toBe(true);
    expect(commitCount(server)).toBe(commitsBefore + 2);

    // The branch head has both changes.
    expect(entryId(server, headAfter, "tenants/acme/staging")).toBe(entryId(server, target.revision, "tenants/acme/staging"));
    expect(fileAt(server, headAfter, "tenants/globex/staging/services/billing/values.yaml")).toContain('tag: "v3.3.3"');
    expect(fileAt(server, headAfter, "tenants/globex/staging/rendered/billing.yaml")).toContain("billing:v3.3.3");

    // Each is recorded in its own tenant-environment's history.
    expect((await fullHistory(server, jane, "acme", "staging"))[0]).toMatchObject({ revision: request.commitSha, source: "ROLLBACK" });
    expect((await fullHistory(server, jane, "globex", "staging"))[0]).toMatchObject({ revision: deployment.revision, source: "RELEASE" });
  });

  it("a deploy to the same tenant-environment racing a rollback never loses a commit", async () => {
    t = await startTestServer();
    const server = t;
    const jane = server.tokens["jane@example.com"]!;
    const history = await fullHistory(server, jane, "globex", "dev");
    const headBefore = head(server);
    const commitsBefore = commitCount(server);
    const [rolled, deployed] = await Promise.all([
      requestRollback(server, jane, { project: "demo", tenant: "globex", environment: "dev", mode: "FULL", targetSha: history[5]!.revision, justification: "race a deploy" }),
      server.gql<{ deploy: DeploymentView }>(jane, DEPLOY, { input: { project: "demo", tenant: "globex", environment: "dev", service: "auth", set: { replicas: 5 } } }),
    ]);
    expectNoInternals(rolled);
    expectNoInternals(deployed);
    const landed = [rolled.errors ? null : rolled.data!.requestRollback.commitSha, deployed.errors ? null : deployed.data!.deploy.revision].filter((x): x is string => Boolean(x));
    if (rolled.errors) expect(["CONFLICT", "BAD_USER_INPUT"]).toContain(rolled.errors[0]!.extensions!.code);
    if (deployed.errors) expect(["CONFLICT", "BAD_USER_INPUT"]).toContain(deployed.errors[0]!.extensions!.code);
    expect(landed.length).toBeGreaterThanOrEqual(1);
    expect(commitCount(server)).toBe(commitsBefore + landed.length);
    const headAfter = head(server);
    expect(isAncestor(server, headBefore, headAfter)).toBe(true);
    for (const sha of landed) expect(isAncestor(server, sha, headAfter)).toBe(true);
    const after = await fullHistory(server, jane, "globex", "dev");
    expect(after[0]!.revision).toBe(headAfter);
    expect(after).toHaveLength(history.length + landed.length);
  });

  it("an execution in one tenant-environment does not hold back another of the same project; one of the same tenant-environment waits its turn", async () => {
    // Every execution pauses before its commit: long enough to look at what runs meanwhile.
    t = await startTestServer({ env: { EXECUTION_PAUSE_AT: "before-commit", EXECUTION_PAUSE_MS: "8000" } });
    const server = t;
    const jane = server.tokens["jane@example.com"]!;
    const alice = server.tokens["alice@example.com"]!;
    const acme = await fullHistory(server, jane, "acme", "staging");
    const globex = await fullHistory(server, jane, "globex", "staging");
    const LIST = `query ($state: RollbackRequestState) { rollbackRequests(project: "demo", state: $state, first: 50) { nodes { id tenant environment state } } }`;
    type Listed = { rollbackRequests: { nodes: { id: string; tenant: string; environment: string; state: string }[] } };
    const inState = async (state: string) => (await server.ok<Listed>(jane, LIST, { state })).rollbackRequests.nodes;

    const first = requestRollback(server, jane, {
      project: "demo",
      tenant: "acme",
      environment: "staging",
      mode: "FULL",
      targetSha: acme[3]!.revision,
      justification: "acme first",
    });
    await eventually(async () => ((await inState("EXECUTING")).length === 1 ? true : undefined), "the first rollback to execute");

    const other = requestRollback(server, jane, {
      project: "demo",
      tenant: "globex",
      environment: "staging",
      mode: "FULL",
      targetSha: globex[3]!.revision,
      justification: "globex meanwhile",
    });
    const same = requestRollback(server, alice, {
      project: "demo",
      tenant: "acme",
      environment: "staging",
      mode: "FULL",
      targetSha: acme[6]!.revision,
      justification: "acme again",
    });
    const executing = await eventually(async () => {
      const rows = await inState("EXECUTING");
      return rows.length === 2 ? rows : undefined;
    }, "both tenant-environments executing at once");
    expect(executing.map((r) => `${r.tenant}/${r.environment}`).sort()).toEqual(["acme/staging", "globex/staging"]);
    // The second acme/staging request waits for the first: approved, not executing.
    const waiting = await inState("APPROVED");
    expect(waiting.map((r) => `${r.tenant}/${r.environment}`)).toEqual(["acme/staging"]);

    const [a, b, c] = await Promise.all([first, other, same]);
    expect(a.data?.requestRollback.state).toBe("COMPLETED");
    expect(b.data?.requestRollback.state).toBe("COMPLETED");
    // Planned against the head before the first one landed, it now conflicts with it and writes nothing.
    expectError(c, "CONFLICT", 409, /revision [0-9a-f]{7}.*revision [0-9a-f]{7}/s);
    const headAfter = head(server);
    for (const sha of [a.data!.requestRollback.commitSha!, b.data!.requestRollback.commitSha!]) expect(isAncestor(server, sha, headAfter)).toBe(true);
    expect(entryId(server, headAfter, "tenants/acme/staging")).toBe(entryId(server, acme[3]!.revision, "tenants/acme/staging"));
    expect(entryId(server, headAfter, "tenants/globex/staging")).toBe(entryId(server, globex[3]!.revision, "tenants/globex/staging"));
  });
});
