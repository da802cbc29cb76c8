import { beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { agentToken, projectId } from "../../helpers/fixtures.js";
import { recentDeployments, REPORT_SYNC, rollbackToPrevious, SYNC_STATUS_CHANGED } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * An agent token can read its project's repository and call
 * reportSyncStatus, nothing else; reportSyncStatus validates what it records.
 */
describe("agent tokens and reportSyncStatus", () => {
  const t = useTestServer();
  let agent: string;
  let alice: string;
  let jane: string;
  let requestId: string;
  let sessionId: string;
  let demoId: string;

  beforeAll(async () => {
    agent = await agentToken(t, "demo");
    alice = tokenOf(t, "alice");
    jane = tokenOf(t, "jane");
    requestId = (await rollbackToPrevious(t, jane, "globex", "staging")).id;
    const opened = await t.ok<{ openBreakGlassSession: { id: string } }>(
      jane,
      `mutation { openBreakGlassSession(project:"demo", justification:"incident 42", durationMinutes: 30){ id } }`,
    );
    sessionId = opened.openBreakGlassSession.id;
    demoId = await projectId(t, "demo");
  });

  describe("an agent token is refused everywhere but reportSyncStatus (FORBIDDEN 403)", () => {
    const target = () => `"${requestId}"`;
    const operations: [string, () => string][] = [
      ["me", () => `{ me { email } }`],
      ["project", () => `{ project(slug:"demo"){ slug } }`],
      ["tenantEnvironment", () => `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"staging"){ sync { state } } }`],
      ["deploymentHistory", () => `{ deploymentHistory(project:"demo",tenant:"acme",environment:"staging"){ totalCount } }`],
      ["compareRevisions", () => `{ compareRevisions(project:"demo",tenant:"acme",environment:"staging",target:"HEAD"){ base } }`],
      ["previewRollback", () => `{ previewRollback(input:{project:"demo",tenant:"acme",environment:"staging",mode:FULL,targetSha:"abc1234"}){ baseSha } }`],
      ["rollbackRequests", () => `{ rollbackRequests(project:"demo"){ totalCount } }`],
      ["rollbackRequest", () => `{ rollbackRequest(id:${target()}){ id } }`],
      ["auditEvents", () => `{ auditEvents(project:"demo"){ totalCount } }`],
      ["node (a project)", () => `{ node(id:"${demoId}"){ id } }`],
      ["deploy", () => `mutation { deploy(input:{project:"demo",tenant:"acme",environment:"dev",service:"web",set:{replicas:9}}){ id } }`],
      ["requestRollback", () => `mutation { requestRollback(input:{project:"demo",tenant:"acme",environment:"staging",mode:FULL,targetSha:"abc1234",justification:"x"}){ id } }`],
      ["reviewRollbackRequest", () => `mutation { reviewRollbackRequest(id:${target()}, decision:APPROVE){ id } }`],
      ["retryRollbackExecution", () => `mutation { retryRollbackExecution(id:${target()}){ id } }`],
      ["addRollbackNote", () => `mutation { addRollbackNote(id:${target()}, text:"from an agent"){ id } }`],
      ["openBreakGlassSession", () => `mutation { openBreakGlassSession(project:"demo", justification:"x"){ id } }`],
      ["closeBreakGlassSession", () => `mutation { closeBreakGlassSession(id:"${sessionId}"){ id } }`],
      ["setApprovalPolicy", () => `mutation { setApprovalPolicy(project:"demo", environment:"production", requiredApprovals:0, allowSelfApproval:true){ environment } }`],
    ];

    it.each(operations)("%s", async (_name, query) => {
      const res = await t.gql(agent, query());
      expect(res.errors?.[0]?.extensions, JSON.stringify(res)).toMatchObject({ code: "FORBIDDEN", status: 403 });
    });

    it("wrote nothing while refusing", async () => {
      const policy = await t.ok<{ project: { approvalPolicies: { environment: string; requiredApprovals: number }[] } }>(
        alice,
        `{ project(slug:"demo"){ approvalPolicies { environment requiredApprovals } } }`,
      );
      expect(policy.project.approvalPolicies.find((p) => p.environment === "production")?.requiredApprovals).toBe(1);
      const req = await t.ok<{ rollbackRequest: { notes: unknown[]; reviews: unknown[] } }>(alice, `{ rollbackRequest(id:"${requestId}"){ notes { text } reviews { decision } } }`);
      expect(req.rollbackRequest.notes).toEqual([]);
      expect(req.rollbackRequest.reviews).toEqual([]);
      const requests = await t.ok<{ rollbackRequests: { totalCount: number } }>(alice, `{ rollbackRequests(project:"demo"){ totalCount } }`);
      expect(requests.rollbackRequests.totalCount).toBe(1);
      const session = await t.ok<{ node: { closedAt: string | null } }>(alice, `{ node(id:"${sessionId}"){ ... on BreakGlassSession { closedAt } } }`);
      expect(session.node.closedAt).toBeNull();
    });

    it.each([
      ["syncStatusChanged", SYNC_STATUS_CHANGED],
      ["rollbackRequestUpdated", `subscription { rollbackRequestUpdated(project:"demo"){ id } }`],
    ])("subscription %s", async (_name, query) => {
      const client = t.ws(agent);
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe({ query, variables: { p: "demo" } }, { next: (v) => v.errors && resolve(v.errors), error: resolve, complete: () => resolve("completed without error") });
      });
      expect(JSON.stringify(error)).toContain("FORBIDDEN");
    });
  });

  describe("reportSyncStatus", () => {
    const input = (over: Record<string, unknown> = {}) => ({
      project: "demo",
      tenant: "acme",
      environment: "dev",
      revision: t.git("demo", "rev-parse", "refs/heads/main").trim(),
      state: "SYNCED",
      health: "Healthy",
      ...over,
    });

    it("accepts the project's agent token and an abbreviated revision, answering the full sha", async () => {
      const head = t.git("demo", "rev-parse", "refs/heads/main").trim();
      const res = await t.ok<{ reportSyncStatus: { revision: string; state: string; agent: string } }>(agent, REPORT_SYNC, { i: input({ revision: head.slice(0, 8) }) });
      expect(res.reportSyncStatus).toMatchObject({ revision: head, state: "SYNCED", agent: "CONNECTED" });
    });

    it("refuses a revision that is not a commit of the project with BAD_USER_INPUT", async () => {
      const tree = t.git("demo", "rev-parse", "refs/heads/main^{tree}").trim();
      const blob = t.git("demo", "rev-parse", "refs/heads/main:tenants/acme/dev/env.yaml").trim();
      // A commit object in the store that the branch never contained (as a failed write leaves).
      const dangling = t.git("demo", "commit-tree", tree, "-m", "never on main").trim();
      const starterHead = t.git("starter", "rev-parse", "refs/heads/main").trim();
      for (const revision of ["0000000000000000000000000000000000000000", "deadbeef", "main", "HEAD", "HEAD~1", "", "../../etc", tree, blob, dangling, starterHead]) {
        const res = await t.gql(agent, REPORT_SYNC, { i: input({ revision }) });
        expect(res.errors?.[0]?.extensions, revision).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
      }
    });

    it("refuses other projects (NOT_FOUND), unknown tenants and environments (NOT_FOUND), and no token (UNAUTHENTICATED)", async () => {
      const starterHead = t.git("starter", "rev-parse", "refs/heads/main").trim();
      expect((await t.gql(agent, REPORT_SYNC, { i: input({ project: "starter", revision: starterHead }) })).errors?.[0]?.extensions).toMatchObject({
        code: "NOT_FOUND",
        status: 404,
      });
      expect((await t.gql(agent, REPORT_SYNC, { i: input({ project: "nope" }) })).errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expect((await t.gql(agent, REPORT_SYNC, { i: input({ tenant: "initech" }) })).errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expect((await t.gql(agent, REPORT_SYNC, { i: input({ environment: "qa" }) })).errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expect((await t.gql(null, REPORT_SYNC, { i: input() })).errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
      expect((await t.gql("rba_revoked-or-unknown", REPORT_SYNC, { i: input() })).errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    });

    it("is for agents: a user below ADMIN gets FORBIDDEN, another organization's user NOT_FOUND", async () => {
      expect((await t.gql(jane, REPORT_SYNC, { i: input() })).errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", status: 403 });
      expect((await t.gql(tokenOf(t, "mallory"), REPORT_SYNC, { i: input() })).errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
    });

    it("records drift items and shows them in tenantEnvironment.sync; statuses do not move while OUT_OF_SYNC", async () => {
      const before = await recentDeployments(t, alice, "acme", "dev", 3);
      const drift = [
        { kind: "Deployment", name: "web", field: "spec.replicas", desired: 1, actual: 4 },
        { kind: "ConfigMap", name: "web-variables", field: null, desired: "present", actual: "missing" },
      ];
      const res = await t.ok<{ reportSyncStatus: { state: string; drift: unknown[] } }>(agent, REPORT_SYNC, {
        i: input({ revision: before[0]!.revision, state: "OUT_OF_SYNC", drift }),
      });
      expect(res.reportSyncStatus.state).toBe("OUT_OF_SYNC");
      expect(res.reportSyncStatus.drift).toEqual(drift);
      const seen = await t.ok<{ tenantEnvironment: { sync: { state: string; drift: unknown[]; revision: string } } }>(
        victor(),
        `{ tenantEnvironment(project:"demo",tenant:"acme",environment:"dev"){ sync { state revision drift { kind name field desired actual } } } }`,
      );
      expect(seen.tenantEnvironment.sync).toEqual({ state: "OUT_OF_SYNC", revision: before[0]!.revision, drift });
      expect((await recentDeployments(t, alice, "acme", "dev", 3)).map((d) => d.status)).toEqual(before.map((d) => d.status));
    });

    it("writes one audit event per changing report, by the agent", async () => {
      const events = await t.ok<{ auditEvents: { nodes: { action: string; actor: unknown; details: Record<string, unknown> }[] } }>(
        alice,
        `{ auditEvents(project:"demo", first: 20){ nodes { action actor { email } details } } }`,
      );
      const sync = events.auditEvents.nodes.filter((e) => e.action === "sync.reported");
      expect(sync.length).toBeGreaterThan(0);
      expect(sync[0]!.actor).toBeNull();
      expect(sync[0]!.details).toMatchObject({ tenant: "acme", environment: "dev" });
    });
  });

  function victor(): string {
    return tokenOf(t, "victor");
  }
});
