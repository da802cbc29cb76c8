import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { TokenKind } from "../../../entities/enums.js";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { rawGraphql } from "../../helpers/http.js";
import { DEPLOY, DEPLOYMENT_RECORDED, type DeploymentView, fullHistory, HISTORY_QUERY, requestRollback, rollbackInput, writeState } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { closeCode, subscribe } from "../../helpers/subscriptions.js";

/** Who is calling: bearer tokens over HTTP and WebSocket, stored only as hashes; no token, no answer. */
describe("authentication", () => {
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

  it("answers me with the caller's email and name", async () => {
    const data = await t.ok<{ me: { id: string; email: string; name: string } }>(jane, "{ me { id email name } }");
    expect(data.me).toMatchObject({ email: "jane@example.com", name: "Jane Doe" });
    expect(data.me.id).toBeTruthy();
    const bob = await t.ok<{ me: { email: string } }>(tokenOf(t, "bob"), "{ me { email } }");
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
    const before = await writeState(t);
    expectError(await requestRollback(t, null, full()), "UNAUTHENTICATED", 401);
    expectError(await t.gql(null, DEPLOY, { input: { project: "demo", tenant: "acme", environment: "staging", service: "web", set: { replicas: 7 } } }), "UNAUTHENTICATED", 401);
    expect(await writeState(t)).toEqual(before);
  });

  it("closes a WebSocket connection without a token with code 4401", async () => {
    const client = t.ws(null);
    const code = closeCode(client);
    const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    expect(await code).toBe(4401);
    sub.dispose();
  });

  it("closes a WebSocket connection with an unknown token with code 4401", async () => {
    const client = t.ws("rbs_not-a-real-token");
    const code = closeCode(client);
    const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    expect(await code).toBe(4401);
    sub.dispose();
  });

  it("never reveals whether a token exists: the message for an unknown token carries no detail about it", async () => {
    const res = await t.gql("rbs_unknown", "{ me { email } }");
    expectError(res, "UNAUTHENTICATED", 401);
    expect(res.errors![0]!.message).not.toContain("rbs_unknown");
  });
});
