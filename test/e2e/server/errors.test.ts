import { beforeAll, describe, expect, it } from "vitest";
import { expectNoInternals } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { rawGraphql } from "../../helpers/http.js";
import { COMPARE, DEPLOY, type DeploymentView, fullHistory, HISTORY_QUERY, previewRollback, requestRollback, rollbackInput } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** Every error a client sees carries a code and status from the spec's table, never a stack trace or an internal path. */
describe("no response carries a stack trace", () => {
  const t = useTestServer();
  let jane: string;
  let staging: DeploymentView[];

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    staging = await fullHistory(t, jane, "acme", "staging");
  });

  const full = (extra: Record<string, unknown> = {}) => ({
    ...rollbackInput({ environment: "staging", targetSha: staging[5]!.revision, justification: "api-gateway returns 500s since the last promotion" }),
    ...extra,
  });

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
      previewRollback(t, jane, full({ targetSha: "ffff" })),
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
