import { describe, expect, it } from "vitest";
import { tokenOf } from "../helpers/demo.js";
import { useTestServer } from "../helpers/server.js";

describe("smoke", () => {
  const t = useTestServer();

  it("answers me for a demo token", async () => {
    const data = await t.ok<{ me: { email: string } }>(tokenOf(t, "jane"), "{ me { email } }");
    expect(data.me.email).toBe("jane@example.com");
  });

  it("refuses a missing token with UNAUTHENTICATED 401", async () => {
    const res = await t.gql(null, "{ me { email } }");
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
  });
});
