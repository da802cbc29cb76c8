import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenKind } from "../entities/enums.js";
import { startTestServer, type TestServer } from "./helpers/harness.js";
import {
  COMPARE,
  DEPLOY,
  DEPLOYMENTS_RECORDED,
  HISTORY_QUERY,
  closeCode,
  commitCount,
  expectError,
  expectNoInternals,
  fullHistory,
  head,
  preview,
  rawGraphql,
  requestRollback,
  rollbackRequestCount,
  subscribe,
  type DeploymentView,
} from "./helpers/issue2.js";

/**
 * Issue 2, items 4 and 11: authentication, roles, organization isolation and the error table.
 * Every refused call is checked for code, status and message, for the absence of stack traces,
 * and (for writes) for leaving Git and the database as they were.
 */
describe("issue 2: authentication, roles and errors", () => {
  let t: TestServer;
  let jane: string;
  let victor: string;
  let mallory: string;
  let staging: DeploymentView[];
  let globexStaging: DeploymentView[];

  beforeAll(async () => {
    t = await startTestServer();
    jane = t.tokens["jane@example.com"]!;
    victor = t.tokens["victor@example.com"]!;
    mallory = t.tokens["mallory@example.com"]!;
    staging = await fullHistory(t, jane, "acme", "staging");
    globexStaging = await fullHistory(t, jane, "globex", "staging");
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** The state a refused write must leave untouched. */
  async function snapshot() {
    return {
      head: head(t),
      commits: commitCount(t),
      requests: await rollbackRequestCount(t, t.tokens["alice@example.com"]!),
      history: (await fullHistory(t, jane, "acme", "staging")).map((d) => `${d.id}:${d.status}`),
    };
  }

  const full = (extra: Record<string, unknown> = {}) => ({
    project: "demo",
    tenant: "acme",
    environment: "staging",
    mode: "FULL",
    targetSha: staging[5]!.revision,
    justification: "api-gateway returns 500s since the last promotion",
    ...extra,
  });

  describe("authentication", () => {
    it("answers me with the caller's email and name", async () => {
      const data = await t.ok<{ me: { id: string; email: string; name: string } }>(jane, "{ me { id email name } }");
      expect(data.me).toMatchObject({ email: "jane@example.com", name: "Jane Doe" });
      expect(data.me.id).toBeTruthy();
      const bob = await t.ok<{ me: { email: string } }>(t.tokens["bob@example.com"]!, "{ me { email } }");
      expect(bob.me.email).toBe("bob@example.com");
    });

    it("refuses a request without a token with UNAUTHENTICATED 401", async () => {
      expectError(await t.gql(null, "{ me { email } }"), "UNAUTHENTICATED", 401);
      expectError(await t.gql(null, HISTORY_QUERY, { p: "demo", t: "acme", e: "staging" }), "UNAUTHENTICATED", 401);
      expectError(await t.gql(null, `{ project(slug:"demo"){ slug } }`), "UNAUTHENTICATED", 401);
    });

    it("refuses an unknown token with UNAUTHENTICATED 401", async () => {
      expectError(await t.gql("rbs_this-token-was-never-issued", "{ me { email } }"), "UNAUTHENTICATED", 401);
      // A token of the right shape but one character off is unknown too.
      const altered = jane.slice(0, -1) + (jane.endsWith("A") ? "B" : "A");
      expectError(await t.gql(altered, "{ me { email } }"), "UNAUTHENTICATED", 401);
    });

    it("refuses an expired token with UNAUTHENTICATED 401", async () => {
      const issued = await t.app.auth.createToken({
        actor: { kind: "system", user: null },
        kind: TokenKind.USER,
        projectSlug: "demo",
        email: "jane@example.com",
        expiresAt: new Date(Date.now() - 60_000),
        label: "expired",
      });
      expectError(await t.gql(issued.token, "{ me { email } }"), "UNAUTHENTICATED", 401);
    });

    it("stores tokens only as hashes", async () => {
      const rows = (await t.app.db.manager.query(`SELECT * FROM "api_token"`)) as Record<string, unknown>[];
      const stored = JSON.stringify(rows);
      for (const token of Object.values(t.tokens)) {
        expect(stored).not.toContain(token);
        expect(rows.map((r) => r.tokenHash)).toContain(createHash("sha256").update(token).digest("hex"));
      }
    });

    it("refuses an Authorization header that is not a bearer token with UNAUTHENTICATED 401", async () => {
      for (const header of [`Basic ${Buffer.from("jane:secret").toString("base64")}`, jane, "Bearer"]) {
        const { json } = await rawGraphql(t.graphqlUrl, { query: "{ me { email } }" }, header);
        expectError(json, "UNAUTHENTICATED", 401);
      }
    });

    it("refuses a write without a token with UNAUTHENTICATED 401 and writes nothing", async () => {
      const before = await snapshot();
      expectError(await requestRollback(t, null, full()), "UNAUTHENTICATED", 401);
      expectError(await t.gql(null, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } }), "UNAUTHENTICATED", 401);
      expect(await snapshot()).toEqual(before);
    });

    it("closes a WebSocket connection without a token with code 4401", async () => {
      const client = t.ws(null);
      const code = closeCode(client);
      const sub = subscribe(client, DEPLOYMENTS_RECORDED, { p: "demo" }, "deploymentRecorded");
      expect(await code).toBe(4401);
      sub.dispose();
    });

    it("closes a WebSocket connection with an unknown token with code 4401", async () => {
      const client = t.ws("rbs_not-a-real-token");
      const code = closeCode(client);
      const sub = subscribe(client, DEPLOYMENTS_RECORDED, { p: "demo" }, "deploymentRecorded");
      expect(await code).toBe(4401);
      sub.dispose();
    });

    it("never reveals whether a token exists: the message for an unknown token carries no detail about it", async () => {
      const res = await t.gql("rbs_unknown", "{ me { email } }");
      expectError(res, "UNAUTHENTICATED", 401);
      expect(res.errors![0]!.message).not.toContain("rbs_unknown");
    });
  });

  describe("roles", () => {
    it("lets a VIEWER read history, compare revisions and preview", async () => {
      const history = await fullHistory(t, victor, "acme", "staging");
      expect(history.map((d) => d.id)).toEqual(staging.map((d) => d.id));
      const cmp = await t.gql(victor, COMPARE, { p: "demo", t: "acme", e: "staging", target: staging[3]!.revision });
      expect(cmp.errors).toBeUndefined();
      const pre = await preview(t, victor, full());
      expect(pre.errors).toBeUndefined();
    });

    it("refuses deploy to a VIEWER with FORBIDDEN 403 and writes nothing", async () => {
      const before = await snapshot();
      const res = await t.gql(victor, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } });
      const error = expectError(res, "FORBIDDEN", 403);
      expect(error.message).toMatch(/VIEWER/);
      expect(await snapshot()).toEqual(before);
    });

    it("refuses requestRollback to a VIEWER with FORBIDDEN 403 and writes nothing", async () => {
      const before = await snapshot();
      const error = expectError(await requestRollback(t, victor, full()), "FORBIDDEN", 403);
      expect(error.message).toMatch(/VIEWER/);
      expect(await snapshot()).toEqual(before);
    });

    it("refuses a VIEWER even when the rollback input is otherwise incomplete (no justification)", async () => {
      const res = await requestRollback(t, victor, full({ justification: null }));
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", status: 403 });
      expectNoInternals(res);
    });
  });

  describe("organizations do not see each other's projects", () => {
    it("shows mallory (starter only) no demo project: project(slug) is null, the same as for a project that does not exist", async () => {
      const data = await t.ok<{ demo: unknown; nope: unknown; starter: { slug: string } | null }>(
        mallory,
        `{ demo: project(slug:"demo"){ slug } nope: project(slug:"no-such-project"){ slug } starter: project(slug:"starter"){ slug } }`,
      );
      expect(data).toEqual({ demo: null, nope: null, starter: { slug: "starter" } });
    });

    it("answers NOT_FOUND 404 to mallory for another organization's history, with the same message shape as for a missing project", async () => {
      const other = expectError(await t.gql(mallory, HISTORY_QUERY, { p: "demo", t: "acme", e: "staging" }), "NOT_FOUND", 404);
      const missing = expectError(await t.gql(mallory, HISTORY_QUERY, { p: "ghost", t: "acme", e: "staging" }), "NOT_FOUND", 404);
      expect(other.message.replace("demo", "X")).toBe(missing.message.replace("ghost", "X"));
    });

    it("answers NOT_FOUND 404 to mallory for a rollback in another organization's project and writes nothing", async () => {
      const before = await snapshot();
      const res = await requestRollback(t, mallory, full());
      const error = expectError(res, "NOT_FOUND", 404);
      expect(error.message).not.toMatch(/forbidden|permission|organization|role/i);
      expect(await snapshot()).toEqual(before);
    });

    it("answers NOT_FOUND 404 to mallory for a preview, a comparison and a deploy in another organization's project", async () => {
      expectError(await preview(t, mallory, full()), "NOT_FOUND", 404);
      expectError(await t.gql(mallory, COMPARE, { p: "demo", t: "acme", e: "staging", target: staging[3]!.revision }), "NOT_FOUND", 404);
      expectError(
        await t.gql(mallory, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } }),
        "NOT_FOUND",
        404,
      );
    });

    it("hides another organization's objects from node(id)", async () => {
      const data = await t.ok<{ node: unknown }>(mallory, `query($id:ID!){ node(id:$id){ id } }`, { id: staging[0]!.id });
      expect(data.node).toBeNull();
      const own = await t.ok<{ node: { id: string } | null }>(jane, `query($id:ID!){ node(id:$id){ id } }`, { id: staging[0]!.id });
      expect(own.node).toEqual({ id: staging[0]!.id });
    });

    it("refuses mallory a subscription to another organization's project with NOT_FOUND", async () => {
      const client = t.ws(mallory);
      const sub = subscribe(client, DEPLOYMENTS_RECORDED, { p: "demo" }, "deploymentRecorded");
      const error = await sub.failed();
      expect(error.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expectNoInternals({ errors: [error] });
      expect(sub.items).toEqual([]);
      sub.dispose();
    });
  });

  describe("requestRollback errors (issue 2, item 11)", () => {
    it('refuses a missing targetSha with exactly "targetSha is required" (BAD_USER_INPUT 400) and writes nothing', async () => {
      const before = await snapshot();
      const { targetSha: _omit, ...input } = full();
      expectError(await requestRollback(t, jane, input), "BAD_USER_INPUT", 400, "targetSha is required");
      expect(await snapshot()).toEqual(before);
    });

    it('refuses a null, empty or blank targetSha with exactly "targetSha is required"', async () => {
      for (const targetSha of [null, "", "   "]) {
        expectError(await requestRollback(t, jane, full({ targetSha })), "BAD_USER_INPUT", 400, "targetSha is required");
      }
    });

    it('answers "targetSha is required" to previewRollback too', async () => {
      expectError(await preview(t, jane, full({ targetSha: "" })), "BAD_USER_INPUT", 400, "targetSha is required");
      const { targetSha: _omit, ...input } = full();
      expectError(await preview(t, jane, input), "BAD_USER_INPUT", 400, "targetSha is required");
    });

    it("refuses a deployment of another tenant-environment as target (BAD_USER_INPUT 400, Invalid target revision) and writes nothing", async () => {
      const before = await snapshot();
      const foreign = globexStaging.find((d) => !staging.some((s) => s.revision === d.revision))!;
      const error = expectError(await requestRollback(t, jane, full({ targetSha: foreign.revision })), "BAD_USER_INPUT", 400, /Invalid target revision/);
      expect(error.message).toContain(foreign.revision.slice(0, 7));
      expect(await snapshot()).toEqual(before);
    });

    it("refuses a sha that is no commit at all and one that is not hexadecimal, writing nothing", async () => {
      const before = await snapshot();
      for (const targetSha of ["0123456789abcdef0123456789abcdef01234567", "abc1234", "HEAD~3", "main"]) {
        expectError(await requestRollback(t, jane, full({ targetSha })), "BAD_USER_INPUT", 400, /Invalid target revision/);
      }
      expect(await snapshot()).toEqual(before);
    });

    it("refuses an invalid target in previewRollback with the same error", async () => {
      const foreign = globexStaging[0]!.revision;
      expectError(await preview(t, jane, full({ targetSha: foreign })), "BAD_USER_INPUT", 400, /Invalid target revision/);
    });

    it("refuses a missing justification with BAD_USER_INPUT 400 and writes nothing", async () => {
      const before = await snapshot();
      const { justification: _omit, ...input } = full();
      const error = expectError(await requestRollback(t, jane, input), "BAD_USER_INPUT", 400);
      expect(error.message).toMatch(/justification/i);
      expect(await snapshot()).toEqual(before);
    });

    it("refuses an empty or blank justification with BAD_USER_INPUT 400", async () => {
      for (const justification of ["", "  \n "]) {
        const error = expectError(await requestRollback(t, jane, full({ justification })), "BAD_USER_INPUT", 400);
        expect(error.message).toMatch(/justification/i);
      }
    });

    it("answers NOT_FOUND 404 for an unknown project, naming it, and writes nothing", async () => {
      const before = await snapshot();
      const error = expectError(await requestRollback(t, jane, full({ project: "no-such-project" })), "NOT_FOUND", 404);
      expect(error.message).toContain("no-such-project");
      expect(await snapshot()).toEqual(before);
    });

    it("answers NOT_FOUND 404 for an unknown tenant, naming it", async () => {
      const error = expectError(await requestRollback(t, jane, full({ tenant: "initech" })), "NOT_FOUND", 404);
      expect(error.message).toContain("initech");
    });

    it("answers NOT_FOUND 404 for an unknown environment, naming it", async () => {
      const error = expectError(await requestRollback(t, jane, full({ environment: "qa" })), "NOT_FOUND", 404);
      expect(error.message).toContain("qa");
    });

    it("refuses service or fields in FULL mode as malformed input (BAD_USER_INPUT 400)", async () => {
      expectError(await requestRollback(t, jane, full({ service: "web" })), "BAD_USER_INPUT", 400);
    });

    it("refuses a mode that does not exist as malformed input (400)", async () => {
      const res = await requestRollback(t, jane, full({ mode: "EVERYTHING" }));
      expect(res.errors?.[0]?.extensions?.status).toBe(400);
      expectNoInternals(res);
    });

    it("refuses a request missing required input fields as malformed input (400)", async () => {
      const res = await requestRollback(t, jane, { tenant: "acme", environment: "staging", mode: "FULL", targetSha: staging[3]!.revision, justification: "x" });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
      expectNoInternals(res);
    });
  });

  describe("no response carries a stack trace", () => {
    it("answers a syntax error with a 400 code and no internals", async () => {
      const res = await t.gql(jane, "{ me { email ");
      expect(res.errors?.[0]?.extensions?.status).toBe(400);
      expectNoInternals(res);
    });

    it("answers a query for an unknown field with a 400 code and no internals", async () => {
      const res = await t.gql(jane, "{ me { password } }");
      expect(res.errors?.[0]?.extensions?.status).toBe(400);
      expectNoInternals(res);
    });

    it("answers a body that is not JSON with BAD_USER_INPUT 400 and no internals", async () => {
      const { json } = await rawGraphql(t.graphqlUrl, "{not json", `Bearer ${jane}`);
      expect(json.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 400 });
      expectNoInternals(json);
    });

    it("answers wrongly typed variables with a 400 code and no internals", async () => {
      const res = await t.gql(jane, HISTORY_QUERY, { p: "demo", t: "acme", e: "staging", first: "ten" });
      expect(res.errors?.[0]?.extensions?.status).toBe(400);
      expectNoInternals(res);
    });

    it("gives every error of a batch of bad calls a code and a status from the spec's table", async () => {
      const calls = [
        requestRollback(t, jane, full({ targetSha: "" })),
        requestRollback(t, jane, full({ project: "x" })),
        preview(t, jane, full({ targetSha: "ffff" })),
        t.gql(jane, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "no-such-service", set: { replicas: 2 } } }),
        t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: "zzz" }),
      ];
      const table: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, EXECUTION_FAILED: 500 };
      for (const res of await Promise.all(calls)) {
        expect(res.errors?.length).toBe(1);
        const ext = res.errors![0]!.extensions!;
        expect(Object.keys(table)).toContain(ext.code);
        expect(ext.status).toBe(table[ext.code as string]);
        expectNoInternals(res);
      }
    });
  });
});
