import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenKind } from "../../../entities/enums.js";
import { errorOf } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { lockBranch, unlockBranch } from "../../helpers/git.js";
import {
  ADD_NOTE,
  CLOSE_BREAK_GLASS,
  GET_REQUEST,
  mustRequest,
  OPEN_BREAK_GLASS,
  recentDeployments,
  REQUEST_ROLLBACK,
  RETRY,
  REVIEW,
  ROLLBACK_REQUEST_UPDATED,
  rollbackInput,
  SET_POLICY,
} from "../../helpers/operations.js";
import { type GqlResult, useTestServer } from "../../helpers/server.js";
import { collect } from "../../helpers/subscriptions.js";

/**
 * Access control everywhere. Every query, mutation and subscription of the contract runs
 * against project `demo` as each role, as a user of another organization (mallory: demo does not
 * exist for her, so NOT_FOUND, never FORBIDDEN), as a cluster agent and anonymously; the outcomes
 * are compared with one table.
 *
 * Outcomes: "ok" (allowed), an error code, or "NOT_FOUND" for a nullable lookup that answered null
 * (the same answer as for an id or slug that does not exist, checked separately below).
 */

type Actor = "VIEWER" | "DEPLOYER" | "APPROVER" | "ADMIN" | "OTHER_ORG" | "AGENT" | "ANONYMOUS";
const ACTORS: Actor[] = ["VIEWER", "DEPLOYER", "APPROVER", "ADMIN", "OTHER_ORG", "AGENT", "ANONYMOUS"];
type Outcome = string;
type Cells = Record<Actor, Outcome>;

const ok = "ok";
const F = "FORBIDDEN";
const NF = "NOT_FOUND";
const U = "UNAUTHENTICATED";

/** Expected outcome columns: VIEWER, DEPLOYER, APPROVER, ADMIN, other organization, agent token, no token. */
function row(viewer: Outcome, deployer: Outcome, approver: Outcome, admin: Outcome, otherOrg: Outcome, agent: Outcome = F, anonymous: Outcome = U): Cells {
  return { VIEWER: viewer, DEPLOYER: deployer, APPROVER: approver, ADMIN: admin, OTHER_ORG: otherOrg, AGENT: agent, ANONYMOUS: anonymous };
}

/** The matrix: operation → who gets what. */
const EXPECTED: Record<string, Cells> = {
  // queries
  "query me": row(ok, ok, ok, ok, ok /* not project-bound */),
  "query node(Project)": row(ok, ok, ok, ok, NF),
  "query node(RollbackRequest)": row(ok, ok, ok, ok, NF),
  "query node(AuditEvent)": row(ok, ok, ok, ok, NF),
  "query project": row(ok, ok, ok, ok, NF),
  "query tenantEnvironment": row(ok, ok, ok, ok, NF),
  "query deploymentHistory": row(ok, ok, ok, ok, NF),
  "query compareRevisions": row(ok, ok, ok, ok, NF),
  "query previewRollback": row(ok, ok, ok, ok, NF),
  "query rollbackRequest": row(ok, ok, ok, ok, NF),
  "query rollbackRequests": row(ok, ok, ok, ok, NF),
  "query auditEvents": row(ok, ok, ok, ok, NF),
  // mutations
  "mutation deploy": row(F, ok, ok, ok, NF),
  "mutation requestRollback": row(F, ok, ok, ok, NF),
  "mutation reviewRollbackRequest": row(F, F, ok, ok, NF),
  "mutation retryRollbackExecution": row(F, ok /* the requester */, ok, ok, NF),
  "mutation addRollbackNote": row(F /* VIEWER is read-only */, ok, ok, ok, NF),
  "mutation openBreakGlassSession": row(F, ok, ok, ok, NF),
  "mutation closeBreakGlassSession (jane's session)": row(F, ok /* owner */, F, ok, NF),
  "mutation setApprovalPolicy": row(F, F, F, ok, NF),
  "mutation reportSyncStatus": row(F, F, F, ok /* manual report */, NF, ok /* its agent */),
  // subscriptions
  "subscription rollbackRequestUpdated": row(ok, ok, ok, ok, NF),
  "subscription deploymentRecorded": row(ok, ok, ok, ok, NF, ok /* an agent hears its own project, to sync at once */),
};

interface Op {
  name: string;
  doc: string;
  field: string;
  /** Variables for one cell; may create what the cell needs (a fresh request, a session...). */
  vars: (actor: Actor) => Promise<Record<string, unknown>>;
  /** Undo what an allowed cell left behind. */
  after?: (actor: Actor, res: GqlResult) => Promise<void>;
}

describe("access matrix on project demo", () => {
  const t = useTestServer();
  let tokens: Record<Actor, string | null>;
  let projectId: string;
  let sharedRequestId: string;
  let auditEventId: string;
  let prodRevisions: string[];
  let replicas = 20;

  const seeded = async (tenant: string, env: string) => (await recentDeployments(t, tokenOf(t, "alice"), tenant, env, 2)).map((d) => d.revision);

  /** A FAILED request of jane's (execution failed on a locked branch) in the given tenant-environment. */
  const failedRequest = async (tenant: string, environment: string): Promise<string> => {
    const [, previous] = await seeded(tenant, environment);
    lockBranch(t);
    try {
      const res = await t.gql(tokenOf(t, "jane"), REQUEST_ROLLBACK, { input: rollbackInput({ tenant, environment, targetSha: previous }), key: null });
      const err = errorOf(res);
      expect(err.code).toBe("EXECUTION_FAILED");
      return err.extensions!.requestId as string;
    } finally {
      unlockBranch(t);
    }
  };
  let sharedFailed: string | null = null;

  const OPS: Op[] = [
    { name: "query me", doc: `{ me { email } }`, field: "me", vars: async () => ({}) },
    { name: "query node(Project)", doc: `query($id: ID!) { node(id: $id) { id } }`, field: "node", vars: async () => ({ id: projectId }) },
    { name: "query node(RollbackRequest)", doc: `query($id: ID!) { node(id: $id) { id } }`, field: "node", vars: async () => ({ id: sharedRequestId }) },
    { name: "query node(AuditEvent)", doc: `query($id: ID!) { node(id: $id) { id } }`, field: "node", vars: async () => ({ id: auditEventId }) },
    {
      name: "query project",
      doc: `query { project(slug: "demo") { id slug viewerRole environments approvalPolicies { environment } } }`,
      field: "project",
      vars: async () => ({}),
    },
    {
      name: "query tenantEnvironment",
      doc: `query { tenantEnvironment(project: "demo", tenant: "acme", environment: "production") { id currentRevision services { name } } }`,
      field: "tenantEnvironment",
      vars: async () => ({}),
    },
    {
      name: "query deploymentHistory",
      doc: `query { deploymentHistory(project: "demo", tenant: "acme", environment: "production", first: 2) { totalCount nodes { revision } } }`,
      field: "deploymentHistory",
      vars: async () => ({}),
    },
    {
      name: "query compareRevisions",
      doc: `query($target: String!) { compareRevisions(project: "demo", tenant: "acme", environment: "production", target: $target) { base target impact { services } } }`,
      field: "compareRevisions",
      vars: async () => ({ target: prodRevisions[1] }),
    },
    {
      name: "query previewRollback",
      doc: `query($i: RollbackInput!) { previewRollback(input: $i) { mode targetSha approvalRequired } }`,
      field: "previewRollback",
      vars: async () => ({ i: { project: "demo", tenant: "acme", environment: "production", mode: "SERVICE", service: "api-gateway", targetSha: prodRevisions[1] } }),
    },
    { name: "query rollbackRequest", doc: GET_REQUEST, field: "rollbackRequest", vars: async () => ({ id: sharedRequestId }) },
    {
      name: "query rollbackRequests",
      doc: `query { rollbackRequests(project: "demo", first: 5) { totalCount nodes { id } } }`,
      field: "rollbackRequests",
      vars: async () => ({}),
    },
    { name: "query auditEvents", doc: `query { auditEvents(project: "demo", first: 5) { totalCount nodes { id action } } }`, field: "auditEvents", vars: async () => ({}) },
    {
      name: "mutation deploy",
      doc: `mutation($input: DeployInput!) { deploy(input: $input) { revision } }`,
      field: "deploy",
      vars: async () => ({ input: { project: "demo", tenant: "acme", environment: "dev", service: "web", set: { replicas: ++replicas } } }),
    },
    {
      name: "mutation requestRollback",
      doc: REQUEST_ROLLBACK,
      field: "requestRollback",
      // Production needs approval: an allowed request stays PENDING and writes nothing.
      vars: async () => ({ input: rollbackInput({ targetSha: prodRevisions[1], justification: "matrix" }), key: null }),
    },
    {
      name: "mutation reviewRollbackRequest",
      doc: REVIEW,
      field: "reviewRollbackRequest",
      // A fresh PENDING request of carol's for every cell; REJECT, so nothing executes.
      vars: async () => ({
        id: (await mustRequest(t, tokenOf(t, "carol"), { targetSha: prodRevisions[1], justification: "matrix review" })).id,
        decision: "REJECT",
        comment: null,
      }),
    },
    {
      name: "mutation retryRollbackExecution",
      doc: RETRY,
      field: "retryRollbackExecution",
      vars: async (actor) => {
        // Allowed cells each retry their own FAILED request (in their own tenant-environment); refused cells share one.
        const own: Partial<Record<Actor, [string, string]>> = { DEPLOYER: ["acme", "dev"], APPROVER: ["acme", "staging"], ADMIN: ["globex", "dev"] };
        const place = own[actor];
        if (place) return { id: await failedRequest(...place) };
        sharedFailed ??= await failedRequest("globex", "staging");
        return { id: sharedFailed };
      },
    },
    { name: "mutation addRollbackNote", doc: ADD_NOTE, field: "addRollbackNote", vars: async (actor) => ({ id: sharedRequestId, text: `note by ${actor}` }) },
    {
      name: "mutation openBreakGlassSession",
      doc: OPEN_BREAK_GLASS,
      field: "openBreakGlassSession",
      vars: async () => ({ p: "demo", j: "matrix", m: 5 }),
      after: async (actor, res) => {
        const id = (res.data as { openBreakGlassSession?: { id: string } } | null)?.openBreakGlassSession?.id;
        if (id) await t.ok(tokens[actor], CLOSE_BREAK_GLASS, { id });
      },
    },
    {
      name: "mutation closeBreakGlassSession (jane's session)",
      doc: CLOSE_BREAK_GLASS,
      field: "closeBreakGlassSession",
      vars: async () => ({
        id: (await t.ok<{ openBreakGlassSession: { id: string } }>(tokens.DEPLOYER, OPEN_BREAK_GLASS, { p: "demo", j: "matrix close", m: 5 })).openBreakGlassSession.id,
      }),
      after: async () => {
        const open = (await t.ok<{ project: { activeBreakGlassSession: { id: string } | null } }>(tokens.DEPLOYER, `{ project(slug: "demo") { activeBreakGlassSession { id } } }`))
          .project.activeBreakGlassSession;
        if (open) await t.ok(tokens.DEPLOYER, CLOSE_BREAK_GLASS, { id: open.id });
      },
    },
    { name: "mutation setApprovalPolicy", doc: SET_POLICY, field: "setApprovalPolicy", vars: async () => ({ p: "demo", e: "staging", n: 0, self: false }) },
    {
      name: "mutation reportSyncStatus",
      doc: `mutation($input: SyncReportInput!) { reportSyncStatus(input: $input) { state revision } }`,
      field: "reportSyncStatus",
      vars: async () => ({ input: { project: "demo", tenant: "acme", environment: "dev", revision: (await seeded("acme", "dev"))[0], state: "SYNCED", health: "Healthy" } }),
    },
  ];

  const classify = (res: GqlResult, field: string): Outcome => {
    if (res.errors?.length) return String(res.errors[0]!.extensions?.code ?? "NO_CODE");
    const value = (res.data as Record<string, unknown> | null | undefined)?.[field];
    return value === null || value === undefined ? NF : ok;
  };

  const classifyWs = (err: unknown): Outcome => {
    if (Array.isArray(err)) {
      const first = err[0] as { extensions?: { code?: string } } | undefined;
      return first?.extensions ? String(first.extensions.code ?? "NO_CODE") : classifyWs(first);
    }
    const code = (err as { code?: unknown })?.code;
    if (code === 4401) return U;
    if (typeof code === "number") return `CLOSED_${code}`;
    return `ERROR: ${String((err as Error)?.message ?? err)}`;
  };

  /** Subscribes as every actor at once, fires one matching event, and sees who got it. */
  const subscriptionCells = async (doc: string, variables: Record<string, unknown>, trigger: () => Promise<unknown>): Promise<Cells> => {
    const subs = ACTORS.map((actor) => {
      const c = collect(t.ws(tokens[actor]), doc, variables, 1, 30_000);
      // A refused subscribe arrives as a result with errors (then completes), or as a close of the socket.
      const outcome = c.done.then(
        () => (c.errors.length ? classifyWs(c.errors) : ok),
        (err: unknown) => classifyWs(c.errors.length ? c.errors : err),
      );
      return { actor, c, outcome };
    });
    await Promise.all(subs.filter((s) => s.actor !== "ANONYMOUS").map((s) => s.c.ready));
    await trigger();
    const cells = {} as Cells;
    for (const s of subs) {
      cells[s.actor] = await s.outcome;
      s.c.dispose();
    }
    return cells;
  };

  beforeAll(async () => {
    const agent = await t.app.auth.createToken({ actor: { kind: "system", user: null }, kind: TokenKind.AGENT, projectSlug: "demo", label: "matrix agent" });
    tokens = {
      VIEWER: tokenOf(t, "victor"),
      DEPLOYER: tokenOf(t, "jane"),
      APPROVER: tokenOf(t, "bob"),
      ADMIN: tokenOf(t, "alice"),
      OTHER_ORG: tokenOf(t, "mallory"),
      AGENT: agent.token,
      ANONYMOUS: null,
    };
    const alice = tokenOf(t, "alice");
    projectId = (await t.ok<{ project: { id: string } }>(alice, `{ project(slug: "demo") { id } }`)).project.id;
    prodRevisions = await seeded("acme", "production");
    sharedRequestId = (await mustRequest(t, tokenOf(t, "carol"), { targetSha: prodRevisions[1], justification: "matrix shared" })).id;
    auditEventId = (await t.ok<{ auditEvents: { nodes: { id: string }[] } }>(alice, `{ auditEvents(project: "demo", first: 1) { nodes { id } } }`)).auditEvents.nodes[0]!.id;
  });
  afterAll(async () => {
    unlockBranch(t);
  });

  it("every operation × every caller matches the table", async () => {
    const actual: Record<string, Cells> = {};
    for (const op of OPS) {
      const cells = {} as Cells;
      for (const actor of ACTORS) {
        const res = await t.gql(tokens[actor], op.doc, await op.vars(actor));
        cells[actor] = classify(res, op.field);
        if (cells[actor] === ok && op.name === "query project") {
          // The project tells each caller their own role.
          expect((res.data as { project: { viewerRole: string } }).project.viewerRole).toBe(actor);
        }
        if (op.after) await op.after(actor, res);
      }
      actual[op.name] = cells;
    }

    actual["subscription rollbackRequestUpdated"] = await subscriptionCells(ROLLBACK_REQUEST_UPDATED, { p: "demo", id: sharedRequestId }, () =>
      t.ok(tokens.ADMIN, ADD_NOTE, { id: sharedRequestId, text: "ping subscribers" }),
    );
    actual["subscription deploymentRecorded"] = await subscriptionCells(
      `subscription { deploymentRecorded(project: "demo", tenant: "acme", environment: "dev") { revision source } }`,
      {},
      () =>
        t.ok(tokens.DEPLOYER, `mutation($input: DeployInput!) { deploy(input: $input) { revision } }`, {
          input: { project: "demo", tenant: "acme", environment: "dev", service: "worker", set: { replicas: ++replicas } },
        }),
    );

    expect(actual).toEqual(EXPECTED);
  });

  it("another organization's project answers exactly like a project that does not exist", async () => {
    const mallory = tokenOf(t, "mallory");
    const probes: [string, (slug: string) => string, string][] = [
      ["project", (s) => `{ project(slug: "${s}") { id } }`, "project"],
      ["tenantEnvironment", (s) => `{ tenantEnvironment(project: "${s}", tenant: "acme", environment: "production") { id } }`, "tenantEnvironment"],
      ["deploymentHistory", (s) => `{ deploymentHistory(project: "${s}", tenant: "acme", environment: "production") { totalCount } }`, "deploymentHistory"],
      ["auditEvents", (s) => `{ auditEvents(project: "${s}") { totalCount } }`, "auditEvents"],
      ["openBreakGlassSession", (s) => `mutation { openBreakGlassSession(project: "${s}", justification: "x") { id } }`, "openBreakGlassSession"],
    ];
    for (const [name, doc, field] of probes) {
      const theirs = await t.gql(mallory, doc("demo"));
      const missing = await t.gql(mallory, doc("no-such-project"));
      const shape = (r: GqlResult, slug: string) =>
        r.errors?.length
          ? { code: r.errors[0]!.extensions?.code, status: r.errors[0]!.extensions?.status, message: r.errors[0]!.message.replace(slug, "<slug>") }
          : { data: (r.data as Record<string, unknown>)[field] };
      expect(shape(theirs, "demo"), name).toEqual(shape(missing, "no-such-project"));
      expect(JSON.stringify(theirs), name).not.toContain("FORBIDDEN");
    }
    // Requests and sessions of demo, by id, are as invisible as unknown ids.
    for (const id of [sharedRequestId, "rbk-nope"]) {
      expect((await t.gql(mallory, GET_REQUEST, { id })).data).toEqual({ rollbackRequest: null });
      expect(errorOf(await t.gql(mallory, ADD_NOTE, { id, text: "hi" })).code).toBe(NF);
    }
  });

  it("an agent token works only for reportSyncStatus of its own project", async () => {
    const doc = `mutation($input: SyncReportInput!) { reportSyncStatus(input: $input) { state } }`;
    const [rev] = await seeded("acme", "dev");
    const mine = await t.gql(tokens.AGENT, doc, { input: { project: "demo", tenant: "acme", environment: "dev", revision: rev, state: "SYNCED" } });
    expect(mine.errors).toBeUndefined();
    const other = await t.gql(tokens.AGENT, doc, { input: { project: "pro", tenant: "acme", environment: "dev", revision: rev, state: "SYNCED" } });
    expect(errorOf(other).code).toBe(NF);
  });
});
