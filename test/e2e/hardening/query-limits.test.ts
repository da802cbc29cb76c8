import { getIntrospectionQuery } from "graphql";
import { describe, expect, it } from "vitest";
import { expectError, expectNoInternals } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import type { GqlResult } from "../../helpers/server.js";
import { useTestServer } from "../../helpers/server.js";

/** `{ project(slug:"demo"){ tenants { project { tenants { … levels … id }}}}}`: each level multiplies the work. */
function nestedQuery(levels: number): string {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = `tenants { project { ${inner} } }`;
  return `{ project(slug: "demo") { ${inner} } }`;
}

/** F0 on Project, then F1…F11 each spreading the one below twice: 850 bytes that expand to thousands of selections. */
function fragmentFanOut(): string {
  const fragments = ["fragment F0 on Project{id slug}"];
  for (let i = 1; i <= 11; i++) fragments.push(`fragment F${i} on Project{tenants{project{...F${i - 1}}} a:tenants{project{...F${i - 1}}}}`);
  return `{project(slug:"demo"){...F11}} ${fragments.join(" ")}`;
}

/** Refused before execution: no data, every error a coded validation error naming a limit, the first one matching. */
function expectRefused(result: GqlResult<unknown>, first: RegExp): void {
  expect(result.data ?? null).toBeNull();
  expect(result.errors?.[0]?.message).toMatch(first);
  for (const error of result.errors ?? []) {
    expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", status: 400 });
    expect(error.message).toMatch(/\(QUERY_MAX_[A-Z]+\)$/);
  }
  expectNoInternals(result);
}

/** A bound on the client side, so a server that would work for minutes fails the test instead of hanging it. */
const BOUND = { signal: () => AbortSignal.timeout(10_000) };

async function post(url: string, token: string, query: string): Promise<{ status: number; json: GqlResult<unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
    signal: BOUND.signal(),
  });
  return { status: res.status, json: (await res.json()) as GqlResult<unknown> };
}

describe("every operation is bounded before it runs", () => {
  const t = useTestServer();

  it("refuses the 16-level nested query of a VIEWER with a coded 400 naming the depth limit, and stays healthy", async () => {
    const victor = tokenOf(t, "victor");
    const rssBefore = process.memoryUsage().rss;
    const { status, json } = await post(t.graphqlUrl, victor, nestedQuery(16));
    expect(status).toBe(400);
    const error = expectError(json, "GRAPHQL_VALIDATION_FAILED", 400, /^Query depth limit of 12 exceeded, found \d+ \(QUERY_MAX_DEPTH\)$/);
    expect(error.extensions?.limit).toBe("QUERY_MAX_DEPTH");
    const health = await fetch(`${t.url}/healthz`, { signal: BOUND.signal() });
    expect(health.status).toBe(200);
    // A bound on growth, not a measurement: before the limits this query took over a gigabyte.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it("refuses the 850-byte fragment fan-out with a coded 400, and stays healthy", async () => {
    const victor = tokenOf(t, "victor");
    const query = fragmentFanOut();
    expect(query.length).toBeLessThan(900);
    const rssBefore = process.memoryUsage().rss;
    const { status, json } = await post(t.graphqlUrl, victor, query);
    expect(status).toBe(400);
    expectRefused(json, /^Query depth limit of 12 exceeded, found \d+ \(QUERY_MAX_DEPTH\)$/);
    expect((await fetch(`${t.url}/healthz`, { signal: BOUND.signal() })).status).toBe(200);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it("refuses a shallow query whose lists multiply past the cost limit, naming QUERY_MAX_COST", async () => {
    const jane = tokenOf(t, "jane");
    // Depth 8 is allowed; 10 aliases of the same page of 500 requests with their reviews are not.
    const page = 'rollbackRequests(project: "demo", first: 500) { nodes { reviews { reviewer { email } } notes { text } } }';
    const aliases = Array.from({ length: 10 }, (_, i) => `r${i}: ${page}`).join(" ");
    const { status, json } = await post(t.graphqlUrl, jane, `{ ${aliases} }`);
    expect(status).toBe(400);
    const error = expectError(json, "GRAPHQL_VALIDATION_FAILED", 400, /^Query cost limit of 100000 exceeded, found \d+ \(QUERY_MAX_COST\)$/);
    expect(error.extensions?.limit).toBe("QUERY_MAX_COST");
  });

  it("counts a page size given as a variable", async () => {
    const jane = tokenOf(t, "jane");
    const page = 'rollbackRequests(project: "demo", first: $n) { nodes { reviews { reviewer { email } } } }';
    const query = `query($n: Int!) { ${Array.from({ length: 21 }, (_, i) => `r${i}: ${page}`).join(" ")} }`;
    expect((await t.gql(jane, query, { n: 5 })).errors).toBeUndefined();
    const res = await fetch(t.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${jane}` },
      body: JSON.stringify({ query, variables: { n: 500 } }),
    });
    expect(res.status).toBe(400);
    expectError((await res.json()) as GqlResult<unknown>, "GRAPHQL_VALIDATION_FAILED", 400, /^Query cost limit of 100000 exceeded, found \d+ \(QUERY_MAX_COST\)$/);
  });

  it("refuses too many aliases, directives and tokens, each naming its variable", async () => {
    const jane = tokenOf(t, "jane");
    const aliases = await post(t.graphqlUrl, jane, `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: me { email }`).join(" ")} }`);
    expect(aliases.status).toBe(400);
    expectError(aliases.json, "GRAPHQL_VALIDATION_FAILED", 400, /^Aliases limit of 30 exceeded, found 31 \(QUERY_MAX_ALIASES\)$/);

    const directives = await post(t.graphqlUrl, jane, `{ me { email ${"@include(if: true) ".repeat(51)} } }`);
    expect(directives.status).toBe(400);
    expect(directives.json.errors?.map((e) => e.message)).toContain("Directives limit of 50 exceeded, found 51 (QUERY_MAX_DIRECTIVES)");

    const tokens = await post(t.graphqlUrl, jane, `{ me { ${"email ".repeat(2100)} } }`);
    expect(tokens.status).toBe(400);
    expectError(tokens.json, "GRAPHQL_PARSE_FAILED", 400, "Query token limit of 2000 exceeded (QUERY_MAX_TOKENS)");
  });

  it("still answers GraphiQL's full introspection query and the console's shell query", async () => {
    const jane = tokenOf(t, "jane");
    const introspection = await post(
      t.graphqlUrl,
      jane,
      getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, oneOf: true }),
    );
    expect(introspection.status).toBe(200);
    expect(introspection.json.errors).toBeUndefined();
    expect((introspection.json.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
  });

  it("refuses the same queries over graphql-ws on that operation alone, the socket staying open", async () => {
    const client = t.ws(tokenOf(t, "victor"));
    const run = (query: string) =>
      new Promise<{ errors?: unknown[]; data?: unknown }>((resolve) => {
        const results: unknown[] = [];
        client.subscribe(
          { query },
          {
            next: (value) => results.push(value),
            error: (errors) => resolve({ errors: errors as unknown[] }),
            complete: () => resolve(results[0] as { data?: unknown }),
          },
        );
      });
    const nested = (await run(nestedQuery(16))) as GqlResult<unknown>;
    expectError(nested, "GRAPHQL_VALIDATION_FAILED", 400, /^Query depth limit of 12 exceeded, found \d+ \(QUERY_MAX_DEPTH\)$/);
    const fanOut = (await run(fragmentFanOut())) as GqlResult<unknown>;
    expectRefused(fanOut, /^Query depth limit of 12 exceeded, found \d+ \(QUERY_MAX_DEPTH\)$/);
    const tokens = (await run(`{ me { ${"email ".repeat(2100)} } }`)) as GqlResult<unknown>;
    expectError(tokens, "GRAPHQL_PARSE_FAILED", 400, "Query token limit of 2000 exceeded (QUERY_MAX_TOKENS)");
    // The same socket still answers a small query.
    const me = await run("{ me { email } }");
    expect(me.data).toEqual({ me: { email: "victor@example.com" } });
  });
});

describe("query limits follow QUERY_MAX_* variables", () => {
  const t = useTestServer({ env: { QUERY_MAX_DEPTH: "2", QUERY_MAX_COST: "5" } });

  it("applies the configured depth and cost", async () => {
    const jane = tokenOf(t, "jane");
    const deep = await post(t.graphqlUrl, jane, '{ project(slug: "demo") { tenants { slug } } }');
    expectError(deep.json, "GRAPHQL_VALIDATION_FAILED", 400, /^Query depth limit of 2 exceeded, found 3 \(QUERY_MAX_DEPTH\)$/);
    const costly = await post(t.graphqlUrl, jane, "{ a: me { email } b: me { email } c: me { email } }");
    expectError(costly.json, "GRAPHQL_VALIDATION_FAILED", 400, /^Query cost limit of 5 exceeded, found 6 \(QUERY_MAX_COST\)$/);
  });
});
