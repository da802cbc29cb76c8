import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectNoInternals } from "../../helpers/assertions.js";
import { tokensOf } from "../../helpers/demo.js";
import {
  COMPARE,
  DEPLOY,
  DEPLOYMENT_RECORDED,
  type DeploymentView,
  fullHistory,
  HISTORY_QUERY,
  previewRollback,
  requestRollback,
  rollbackInput,
  writeState,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { subscribe } from "../../helpers/subscriptions.js";

/**
 * What each role may do, and organization isolation: a project the caller has no role in does
 * not exist for them (NOT_FOUND, never FORBIDDEN). Refused writes leave Git and the database as they were.
 */
describe("roles and organizations", () => {
  const t = useTestServer();
  let jane: string;
  let victor: string;
  let mallory: string;
  let staging: DeploymentView[];

  beforeAll(async () => {
    [jane, victor, mallory] = tokensOf(t, "jane", "victor", "mallory");
    staging = await fullHistory(t, jane, "acme", "staging");
  });

  const full = (extra: Record<string, unknown> = {}) => ({
    ...rollbackInput({ environment: "staging", targetSha: staging[5]!.revision, justification: "api-gateway returns 500s since the last promotion" }),
    ...extra,
  });

  describe("roles", () => {
    it("lets a VIEWER read history, compare revisions and preview", async () => {
      const history = await fullHistory(t, victor, "acme", "staging");
      expect(history.map((d) => d.id)).toEqual(staging.map((d) => d.id));
      const cmp = await t.gql(victor, COMPARE, { p: "demo", t: "acme", e: "staging", target: staging[3]!.revision });
      expect(cmp.errors).toBeUndefined();
      const pre = await previewRollback(t, victor, full());
      expect(pre.errors).toBeUndefined();
    });

    it("refuses deploy to a VIEWER with FORBIDDEN 403 and writes nothing", async () => {
      const before = await writeState(t);
      const res = await t.gql(victor, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } });
      const error = expectError(res, "FORBIDDEN", 403);
      expect(error.message).toMatch(/VIEWER/);
      expect(await writeState(t)).toEqual(before);
    });

    it("refuses requestRollback to a VIEWER with FORBIDDEN 403 and writes nothing", async () => {
      const before = await writeState(t);
      const error = expectError(await requestRollback(t, victor, full()), "FORBIDDEN", 403);
      expect(error.message).toMatch(/VIEWER/);
      expect(await writeState(t)).toEqual(before);
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
      const before = await writeState(t);
      const res = await requestRollback(t, mallory, full());
      const error = expectError(res, "NOT_FOUND", 404);
      expect(error.message).not.toMatch(/forbidden|permission|organization|role/i);
      expect(await writeState(t)).toEqual(before);
    });

    it("answers NOT_FOUND 404 to mallory for a preview, a comparison and a deploy in another organization's project", async () => {
      expectError(await previewRollback(t, mallory, full()), "NOT_FOUND", 404);
      expectError(await t.gql(mallory, COMPARE, { p: "demo", t: "acme", e: "staging", target: staging[3]!.revision }), "NOT_FOUND", 404);
      expectError(await t.gql(mallory, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } }), "NOT_FOUND", 404);
    });

    it("hides another organization's objects from node(id)", async () => {
      const data = await t.ok<{ node: unknown }>(mallory, `query($id:ID!){ node(id:$id){ id } }`, { id: staging[0]!.id });
      expect(data.node).toBeNull();
      const own = await t.ok<{ node: { id: string } | null }>(jane, `query($id:ID!){ node(id:$id){ id } }`, { id: staging[0]!.id });
      expect(own.node).toEqual({ id: staging[0]!.id });
    });

    it("refuses mallory a subscription to another organization's project with NOT_FOUND", async () => {
      const client = t.ws(mallory);
      const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
      const error = await sub.failed();
      expect(error.extensions).toMatchObject({ code: "NOT_FOUND", status: 404 });
      expectNoInternals({ errors: [error] });
      expect(sub.items).toEqual([]);
      sub.dispose();
    });
  });
});
