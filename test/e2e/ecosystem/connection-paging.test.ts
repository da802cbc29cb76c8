/**
 * Every connection pages both ways (Relay cursor connections): forward with first/after,
 * backward with last/before, and from any page in either direction, without gaps or
 * duplicates; pageInfo says truthfully whether items lie on either side, also for empty pages.
 */
import { GraphQLClient } from "graphql-request";
import { describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { mustRequest, revisionBack, TEST_JUSTIFICATION } from "../../helpers/operations.js";
import { useTestServer, type TestServer } from "../../helpers/server.js";
import { createWebhook, pingWebhook } from "../../helpers/webhooks.js";
import { startReceiver } from "../../helpers/webhook-receiver.js";

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}
interface Page {
  ids: string[];
  cursors: string[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** One connection of the schema: `select(args)` is the document reading it with those paging arguments; `pick` finds the connection in the data. */
interface Connection {
  name: string;
  token: (t: TestServer) => string;
  select: (args: string) => string;
  pick: (data: Record<string, unknown>) => { edges: { cursor: string; node: { id: string } }[]; pageInfo: PageInfo; totalCount: number };
}

const CONNECTION_FIELDS = "totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";
type Data = Record<string, unknown>;
type Conn = ReturnType<Connection["pick"]>;

const CONNECTIONS: Connection[] = [
  {
    name: "deploymentHistory",
    token: (t) => tokenOf(t, "jane"),
    select: (args) => `{ deploymentHistory(project: "demo", tenant: "acme", environment: "production"${args}) { ${CONNECTION_FIELDS} } }`,
    pick: (d: Data) => d.deploymentHistory as Conn,
  },
  {
    name: "TenantEnvironment.history (filtered)",
    token: (t) => tokenOf(t, "jane"),
    select: (args) => `{ tenantEnvironment(project: "demo", tenant: "globex", environment: "staging") { history(source: RELEASE${args}) { ${CONNECTION_FIELDS} } } }`,
    pick: (d: Data) => (d.tenantEnvironment as { history: Conn }).history,
  },
  {
    name: "rollbackRequests",
    token: (t) => tokenOf(t, "jane"),
    select: (args) => `{ rollbackRequests(project: "demo"${args}) { ${CONNECTION_FIELDS} } }`,
    pick: (d: Data) => d.rollbackRequests as Conn,
  },
  {
    name: "auditEvents",
    token: (t) => tokenOf(t, "alice"),
    select: (args) => `{ auditEvents(project: "demo"${args}) { ${CONNECTION_FIELDS} } }`,
    pick: (d: Data) => d.auditEvents as Conn,
  },
  {
    name: "Webhook.deliveries",
    token: (t) => tokenOf(t, "alice"),
    select: (args) => `{ project(slug: "demo") { webhooks { deliveries(${args.replace(/^, /, "") || "first: 20"}) { ${CONNECTION_FIELDS} } } } }`,
    pick: (d: Data) => (d.project as { webhooks: { deliveries: Conn }[] }).webhooks.find((w) => w.deliveries.totalCount > 0)!.deliveries,
  },
];

describe("backward and forward paging on every connection", () => {
  const t = useTestServer();
  const client = (token: string) => new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${token}` } });

  async function page(c: Connection, args: string): Promise<Page> {
    const conn = c.pick(await client(c.token(t)).request<Data>(c.select(args)));
    return { ids: conn.edges.map((e) => e.node.id), cursors: conn.edges.map((e) => e.cursor), pageInfo: conn.pageInfo, totalCount: conn.totalCount };
  }

  it("sets up lists long enough to page: rollback requests and webhook deliveries", async () => {
    const jane = tokenOf(t, "jane");
    for (let back = 1; back <= 6; back++) {
      const target = await revisionBack(t, jane, "acme", "production", back);
      await mustRequest(t, jane, { tenant: "acme", environment: "production", mode: "FULL", targetSha: target, justification: TEST_JUSTIFICATION });
    }
    const receiver = await startReceiver();
    try {
      const alice = tokenOf(t, "alice");
      const webhook = await createWebhook(t, alice, { url: receiver.url, events: ["GIT_PUSH"], secret: "s3cret-s3cret" });
      for (let i = 0; i < 5; i++) await pingWebhook(t, alice, webhook.id);
    } finally {
      await receiver.close();
    }
  });

  for (const c of CONNECTIONS) {
    describe(c.name, () => {
      it("walks forward with first/after and backward with last/before to the same list, and turns around anywhere", async () => {
        const all = await page(c, ", first: 500");
        expect(all.totalCount).toBe(all.ids.length);
        expect(all.ids.length).toBeGreaterThanOrEqual(5);
        expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });

        const forward: Page[] = [];
        for (let after: string | null = null; ;) {
          const p = await page(c, `, first: 2${after ? `, after: "${after}"` : ""}`);
          forward.push(p);
          expect(p.pageInfo.hasPreviousPage, `forward page ${forward.length}`).toBe(after !== null);
          expect(p.pageInfo).toMatchObject({ startCursor: p.cursors[0], endCursor: p.cursors.at(-1) });
          if (!p.pageInfo.hasNextPage) break;
          after = p.pageInfo.endCursor;
        }
        expect(forward.flatMap((p) => p.ids)).toEqual(all.ids);

        const backward: Page[] = [];
        for (let before: string | null = null; ;) {
          const p = await page(c, `, last: 2${before ? `, before: "${before}"` : ""}`);
          backward.unshift(p);
          expect(p.pageInfo.hasNextPage, `backward page ${backward.length}`).toBe(before !== null);
          if (!p.pageInfo.hasPreviousPage) break;
          before = p.pageInfo.startCursor;
        }
        expect(backward.flatMap((p) => p.ids)).toEqual(all.ids);
        expect(backward.every((p) => p.totalCount === all.totalCount)).toBe(true);

        // From the second forward page: back one page, then forward again.
        const second = forward[1]!;
        const back = await page(c, `, last: 2, before: "${second.pageInfo.startCursor}"`);
        expect(back.ids).toEqual(forward[0]!.ids);
        expect(back.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
        const again = await page(c, `, first: 2, after: "${back.pageInfo.endCursor}"`);
        expect(again.ids).toEqual(second.ids);
        // Between two cursors.
        const between = await page(c, `, last: 10, after: "${all.cursors[0]}", before: "${all.cursors[4]}"`);
        expect(between.ids).toEqual(all.ids.slice(1, 4));
      });

      it("first: 0 and last: 0 say whether items lie beyond the empty page", async () => {
        const none = await page(c, ", first: 0");
        expect(none).toMatchObject({ ids: [], pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null } });
        expect(none.totalCount).toBeGreaterThan(0);
        expect((await page(c, ", last: 0")).pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
        const all = await page(c, ", first: 500");
        expect((await page(c, `, first: 0, after: "${all.cursors.at(-1)}"`)).pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
      });

      it("refuses first with last, and last or before out of range, with BAD_USER_INPUT", async () => {
        const token = c.token(t);
        expectError(
          await t.gql(token, c.select(", first: 2, last: 2")),
          "BAD_USER_INPUT",
          400,
          "first and last cannot be used together: page forward with first and after, or backward with last and before",
        );
        expectError(await t.gql(token, c.select(", last: 501")), "BAD_USER_INPUT", 400, "last must be between 0 and 500, got 501");
        expectError(await t.gql(token, c.select(", last: -1")), "BAD_USER_INPUT", 400, "last must be between 0 and 500, got -1");
        expectError(await t.gql(token, c.select(', last: 2, before: "bm9wZQ"')), "BAD_USER_INPUT", 400, 'invalid cursor "bm9wZQ"');
      });
    });
  }

  it("the schema's default first does not count as a choice: last alone pages backward, a variable left out is no first", async () => {
    const jane = tokenOf(t, "jane");
    const all = await page(CONNECTIONS[0]!, ", first: 500");
    const res = await t.ok<Data>(
      jane,
      `query($first: Int, $last: Int) { deploymentHistory(project: "demo", tenant: "acme", environment: "production", first: $first, last: $last) { edges { node { id } } } }`,
      { last: 3 },
    );
    expect((res.deploymentHistory as Conn).edges.map((e) => e.node.id)).toEqual(all.ids.slice(-3));
  });
});
