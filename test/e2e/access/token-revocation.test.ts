import { describe, expect, it } from "vitest";
import { TokenKind } from "../../../entities/enums.js";
import { AppError } from "../../../src/errors.js";
import { eventually, expectError } from "../../helpers/assertions.js";
import { agentToken } from "../../helpers/fixtures.js";
import { basic } from "../../helpers/http.js";
import { DEPLOYMENT_RECORDED, HISTORY_QUERY } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { closeCode, subscribe } from "../../helpers/subscriptions.js";
import { sha256 } from "../../../src/lib/ids.js";
import { ApiToken } from "../../../entities/api-token.js";

const SYSTEM = { kind: "system", user: null } as const;

/** A good token's caller is remembered for a few seconds; revoking or expiring the token ends that at once. */
describe("token revocation", () => {
  const t = useTestServer();

  const issue = async (expiresAt: Date | null = null) =>
    t.app.auth.createToken({ actor: SYSTEM, kind: TokenKind.USER, projectSlug: "demo", email: "jane@example.com", expiresAt, label: "revocation test" });

  it("refuses a revoked token at once, though it was just used and is remembered", async () => {
    const issued = await issue();
    // Used twice in a row: the second answer comes from the remembered caller.
    for (let i = 0; i < 2; i++) expect((await t.ok<{ me: { email: string } }>(issued.token, "{ me { email } }")).me.email).toBe("jane@example.com");
    await t.app.auth.revokeToken(issued.record.id);
    const refused = await t.gql(issued.token, "{ me { email } }");
    expectError(refused, "UNAUTHENTICATED", 401, "invalid, expired or revoked token");
    expectError(await t.gql(issued.token, HISTORY_QUERY, { p: "demo", t: "acme", e: "staging" }), "UNAUTHENTICATED", 401);
    const stored = await t.app.db.manager.findOneByOrFail(ApiToken, { tokenHash: sha256(issued.token) });
    expect(stored.revokedAt).toBeInstanceOf(Date);
  });

  it("closes a new WebSocket connection of a revoked token with 4401", async () => {
    const issued = await issue();
    await t.ok(issued.token, "{ me { email } }");
    await t.app.auth.revokeToken(issued.record.id);
    const client = t.ws(issued.token);
    const code = closeCode(client);
    const sub = subscribe(client, DEPLOYMENT_RECORDED, { p: "demo" }, "deploymentRecorded");
    expect(await code).toBe(4401);
    sub.dispose();
  });

  it("refuses a revoked agent token on the Git endpoint at once", async () => {
    const token = await agentToken(t);
    const refs = () => fetch(`${t.url}/git/demo.git/info/refs?service=git-upload-pack`, { headers: { authorization: basic(token) } });
    const before = await refs();
    expect(before.status).toBe(200);
    const record = await t.app.db.manager.findOneByOrFail(ApiToken, { tokenHash: sha256(token) });
    await t.app.auth.revokeToken(record.id);
    const after = await refs();
    expect(after.status).toBe(401);
  });

  it("refuses a remembered token once it expires", async () => {
    const issued = await issue(new Date(Date.now() + 1_500));
    expect((await t.ok<{ me: { email: string } }>(issued.token, "{ me { email } }")).me.email).toBe("jane@example.com");
    await eventually(
      async () => {
        const res = await t.gql(issued.token, "{ me { email } }");
        return res.errors?.[0]?.extensions?.code === "UNAUTHENTICATED" ? res : undefined;
      },
      "the expired token refused",
      10_000,
    );
  });

  it("answers NOT_FOUND for revoking a token that does not exist", async () => {
    const err = await t.app.auth.revokeToken("tok_does-not-exist").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "NOT_FOUND", message: "token tok_does-not-exist not found" });
  });
});
