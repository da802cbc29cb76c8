import { describe, expect, it } from "vitest";
import { tokenOf } from "../../helpers/demo.js";
import { HISTORY_QUERY } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** GraphQL operations beyond GRAPHQL_MAX_CONCURRENT wait their turn; every one is answered, and probes are not kept waiting behind them. */
describe("GraphQL admission", () => {
  const t = useTestServer({ env: { GRAPHQL_MAX_CONCURRENT: "2" } });

  it("answers every one of many concurrent operations, in full, with two executing at a time", async () => {
    const jane = tokenOf(t, "jane");
    const pages = await Promise.all(
      Array.from({ length: 40 }, (_, i) => t.gql<{ deploymentHistory: { totalCount: number } }>(jane, HISTORY_QUERY, { p: "demo", t: i % 2 ? "acme" : "globex", e: "staging" })),
    );
    for (const page of pages) {
      expect(page.errors).toBeUndefined();
      expect(page.data!.deploymentHistory.totalCount).toBeGreaterThan(0);
    }
  });

  it("answers /readyz and errors of refused credentials while operations are queued", async () => {
    const jane = tokenOf(t, "jane");
    const load = Promise.all(Array.from({ length: 40 }, () => t.gql(jane, HISTORY_QUERY, { p: "demo", t: "acme", e: "staging" })));
    const [ready, refused] = await Promise.all([fetch(`${t.url}/readyz`), t.gql("rbs_unknown", "{ me { email } }")]);
    expect(ready.status).toBe(200);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await load).every((r) => r.errors === undefined)).toBe(true);
  });
});
