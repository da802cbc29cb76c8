import { beforeAll, describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { ADD_NOTE, badRelease, GET_REQUEST, mustRequest } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * For a user of another organization, a rollback request that exists answers exactly as one that
 * does not (the lookups are scoped by the caller's memberships in one query, so they also do the
 * same work; `npm run bench` is where timing is compared, never here).
 */
describe("another organization's rollback requests do not exist for the caller", () => {
  const t = useTestServer();
  let mallory: string;
  let existing: string;
  let missing: string;

  beforeAll(async () => {
    mallory = tokenOf(t, "mallory");
    const { good } = await badRelease(t);
    existing = (await mustRequest(t, tokenOf(t, "jane"), { targetSha: good })).id;
    // Same shape of id, same type prefix: only existence differs.
    missing = `${existing.slice(0, -4)}${existing.slice(-4) === "0000" ? "1111" : "0000"}`;
  });

  /** The response with the id written as <id>, so the two answers can be compared whole. */
  const anonymised = (res: unknown, id: string) => JSON.parse(JSON.stringify(res).replaceAll(id, "<id>")) as unknown;

  it("rollbackRequest, node and addRollbackNote answer the same for an existing and a missing id", async () => {
    const operations = [
      { query: GET_REQUEST, vars: (id: string) => ({ id }) },
      { query: `query($id: ID!) { node(id: $id) { id } }`, vars: (id: string) => ({ id }) },
      { query: ADD_NOTE, vars: (id: string) => ({ id, text: "probing" }) },
    ];
    for (const op of operations) {
      const there = await t.gql(mallory, op.query, op.vars(existing));
      const notThere = await t.gql(mallory, op.query, op.vars(missing));
      expect(anonymised(there, existing)).toEqual(anonymised(notThere, missing));
    }
    const note = await t.gql(mallory, ADD_NOTE, { id: existing, text: "probing" });
    expect(note.errors?.[0]).toMatchObject({ message: `rollback request "${existing}" not found`, extensions: { code: "NOT_FOUND", status: 404 } });
    expect((await t.gql(mallory, GET_REQUEST, { id: existing })).data).toEqual({ rollbackRequest: null });
  });

  it("members still see the request", async () => {
    const res = await t.gql(tokenOf(t, "victor"), GET_REQUEST, { id: existing });
    expect((res.data as { rollbackRequest: { id: string } }).rollbackRequest.id).toBe(existing);
  });
});
