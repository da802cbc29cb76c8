/**
 * The common GraphQL clients work against the server as their users configure them: urql's
 * default Client (queries as GET), Apollo Client 4 (POST, and GET with useGETForQueries) and
 * graphql-request (POST and GET), all with `Authorization: Bearer`. Simple cross-site requests
 * (no token, no preflight header) are still refused as possible CSRF. Authentication failures
 * of a whole request answer HTTP 401 with a Bearer challenge, and each client shows the
 * UNAUTHENTICATED error.
 */
import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { cacheExchange, Client, fetchExchange } from "@urql/core";
import { ClientError, GraphQLClient } from "graphql-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../helpers/server.js";

const HISTORY = `query HistoryPage($p: String!, $t: String!, $e: String!) {
  deploymentHistory(project: $p, tenant: $t, environment: $e, first: 3) { totalCount nodes { shortRevision author { email } } }
}`;
const VARS = { p: "demo", t: "acme", e: "production" };
type History = { deploymentHistory: { totalCount: number; nodes: { shortRevision: string; author: { email: string } }[] } };

describe("GraphQL clients against the server", () => {
  let t: TestServer;
  let jane: string;
  /** Method and path of every request the server received, as the clients sent them. */
  const seen: { method: string; url: string; headers: Record<string, string> }[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    seen.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers) });
    return fetch(request);
  };

  beforeAll(async () => {
    t = await startTestServer();
    jane = t.tokens["jane@example.com"]!;
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe("urql's default Client", () => {
    it("sends queries as GET with the bearer token, and the server answers them", async () => {
      seen.length = 0;
      const client = new Client({
        url: t.graphqlUrl,
        exchanges: [cacheExchange, fetchExchange],
        fetch: recordingFetch,
        fetchOptions: { headers: { authorization: `Bearer ${jane}` } },
      });
      const result = await client.query<History>(HISTORY, VARS).toPromise();
      expect(result.error).toBeUndefined();
      expect(result.data?.deploymentHistory.nodes).toHaveLength(3);
      expect(result.data?.deploymentHistory.nodes[0]!.author.email).toBeTruthy();
      expect(seen.map((r) => r.method)).toEqual(["GET"]);
      expect(seen[0]!.headers["content-type"]).toBeUndefined();
    });

    it("sends mutations as POST, which work as well", async () => {
      seen.length = 0;
      const client = new Client({ url: t.graphqlUrl, exchanges: [fetchExchange], fetch: recordingFetch, fetchOptions: { headers: { authorization: `Bearer ${jane}` } } });
      const result = await client
        .mutation(`mutation Open($p: String!) { openBreakGlassSession(project: $p, justification: "urql test", durationMinutes: 5) { id expiresAt } }`, { p: "demo" })
        .toPromise();
      expect(result.error).toBeUndefined();
      expect((result.data as { openBreakGlassSession: { id: string } }).openBreakGlassSession.id).toMatch(/^bgs_/);
      expect(seen.map((r) => r.method)).toEqual(["POST"]);
    });

    it("without a token gets the UNAUTHENTICATED error from an HTTP 401 with a Bearer challenge", async () => {
      const client = new Client({ url: t.graphqlUrl, exchanges: [fetchExchange], preferGetMethod: false });
      const result = await client.query(`{ me { email } }`, {}).toPromise();
      expect(result.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
      const response = result.error?.response as Response | undefined;
      expect(response?.status).toBe(401);
      expect(response?.headers.get("www-authenticate")).toBe('Bearer realm="rollback-server"');
    });
  });

  describe("Apollo Client 4", () => {
    const apollo = (token: string | null, options: { useGETForQueries?: boolean } = {}) =>
      new ApolloClient({
        link: new HttpLink({ uri: t.graphqlUrl, fetch: recordingFetch, headers: token ? { authorization: `Bearer ${token}` } : {}, ...options }),
        cache: new InMemoryCache(),
      });

    it("queries over POST", async () => {
      seen.length = 0;
      const { data } = await apollo(jane).query<History>({ query: gql(HISTORY), variables: VARS });
      expect(data?.deploymentHistory.nodes).toHaveLength(3);
      expect(seen.map((r) => r.method)).toEqual(["POST"]);
    });

    it("queries over GET with useGETForQueries", async () => {
      seen.length = 0;
      const { data } = await apollo(jane, { useGETForQueries: true }).query<History>({ query: gql(HISTORY), variables: VARS });
      expect(data?.deploymentHistory.totalCount).toBeGreaterThan(3);
      expect(seen.map((r) => r.method)).toEqual(["GET"]);
    });

    it("shows a refused token as a GraphQL error UNAUTHENTICATED (HTTP 401, invalid_token challenge)", async () => {
      seen.length = 0;
      const error = await apollo("rbs_not-a-token")
        .query({ query: gql(`{ me { email } }`) })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(CombinedGraphQLErrors.is(error)).toBe(true);
      const errors = (error as CombinedGraphQLErrors).errors;
      expect(errors[0]).toMatchObject({ message: "invalid, expired or revoked token", extensions: { code: "UNAUTHENTICATED", status: 401 } });
    });
  });

  describe("graphql-request", () => {
    it("queries over POST and over GET with a bearer token", async () => {
      for (const method of ["POST", "GET"] as const) {
        seen.length = 0;
        const client = new GraphQLClient(t.graphqlUrl, { method, headers: { authorization: `Bearer ${jane}` }, fetch: recordingFetch });
        const data = await client.request<History>(HISTORY, VARS);
        expect(data.deploymentHistory.nodes).toHaveLength(3);
        expect(seen.map((r) => r.method)).toEqual([method]);
      }
    });

    it("gets HTTP 401 with an invalid_token challenge for a refused token, and the UNAUTHENTICATED error", async () => {
      const client = new GraphQLClient(t.graphqlUrl, { headers: { authorization: "Bearer rbs_not-a-token" } });
      const error = await client.request(`{ me { email } }`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      const { response } = error as ClientError;
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="rollback-server", error="invalid_token"/);
      expect(response.errors?.[0]).toMatchObject({ message: "invalid, expired or revoked token", extensions: { code: "UNAUTHENTICATED", status: 401 } });
    });

    it("gets invalid_request for an Authorization header that is not a bearer token", async () => {
      const client = new GraphQLClient(t.graphqlUrl, { headers: { authorization: "Basic amFuZTpzZWNyZXQ=" } });
      const error = (await client.request(`{ me { email } }`).catch((e: unknown) => e)) as ClientError;
      expect(error.response.status).toBe(401);
      expect(error.response.headers.get("www-authenticate")).toMatch(/error="invalid_request"/);
      expect(error.response.errors?.[0]?.extensions).toMatchObject({ code: "UNAUTHENTICATED" });
    });
  });

  describe("CSRF prevention", () => {
    it("refuses a simple GET without a token or a preflight header, as a browser form or <img> would send it", async () => {
      const res = await fetch(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string; status: number } }[] };
      expect(body.errors[0]!.message).toContain("Cross-Site Request Forgery");
      expect(body.errors[0]!.extensions).toEqual({ code: "BAD_USER_INPUT", status: 400 });
    });

    it("refuses a simple POST (text/plain) without a token", async () => {
      const res = await fetch(t.graphqlUrl, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: "{ __typename }" }) });
      expect(res.status).toBe(400);
    });

    it("accepts a GET carrying apollo-require-preflight instead of a token, and a mutation over GET never runs", async () => {
      const ok = await fetch(`${t.graphqlUrl}?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "true" } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ data: { __typename: "Query" } });
      const mutation = `mutation { openBreakGlassSession(project: "demo", justification: "via GET", durationMinutes: 5) { id } }`;
      const refused = await fetch(`${t.graphqlUrl}?query=${encodeURIComponent(mutation)}`, { headers: { authorization: `Bearer ${jane}` } });
      expect(refused.status).toBe(405);
    });
  });
});
