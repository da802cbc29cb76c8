import { buildSchema, execute, parse, getOperationAST, type DocumentNode } from "graphql";
import { describe, expect, it } from "vitest";
import { CompiledExecution } from "../../../src/schema/compiled-execution.js";

const schema = buildSchema(`
  type Query { items(first: Int!): [Item!]! }
  type Mutation { touch: Int! }
  type Item { id: ID! name: String }
`);
let touched = 0;
const root = {
  items: ({ first }: { first: number }) => Array.from({ length: first }, (_, i) => ({ id: `i${i}`, name: i % 2 ? null : `item ${i}` })),
  touch: () => ++touched,
};
for (const [name, resolve] of Object.entries(root)) {
  const field = (schema.getQueryType()!.getFields()[name] ?? schema.getMutationType()!.getFields()[name])!;
  field.resolve = (_source, args) => (resolve as (a: unknown) => unknown)(args);
}

async function executorOf(execution: CompiledExecution) {
  const { executor } = await execution.gateway().load({ apollo: {} });
  return (document: DocumentNode, variables?: Record<string, unknown>) =>
    executor!({ document, operation: getOperationAST(document)!, request: { variables }, context: {} } as never);
}

describe("compiled execution of repeated queries", () => {
  const query = parse(`query Items($n: Int!) { items(first: $n) { id name } }`);

  it("compiles a query on its n-th execution and answers exactly as graphql-js does before and after", async () => {
    const execution = new CompiledExecution(schema, { compileAfter: 3 });
    const run = await executorOf(execution);
    const expected = await execute({ schema, document: query, variableValues: { n: 3 } });
    expect(await run(query, { n: 3 })).toEqual(expected);
    expect(await run(query, { n: 3 })).toEqual(expected);
    expect(execution.compiledCount).toBe(0);
    expect(await run(query, { n: 3 })).toEqual(expected);
    expect(execution.compiledCount).toBe(1);
    expect(await run(query, { n: 3 })).toEqual(expected);
  });

  it("answers variables that do not coerce with graphql-js's own error, compiled or not", async () => {
    const execution = new CompiledExecution(schema, { compileAfter: 1 });
    const run = await executorOf(execution);
    await run(query, { n: 1 });
    expect(execution.compiledCount).toBe(1);
    const expected = await execute({ schema, document: query, variableValues: { n: "many" } });
    expect(expected.errors?.[0]?.message).toMatch(/Variable "\$n" got invalid value "many"/);
    expect(await run(query, { n: "many" })).toEqual(expected);
  });

  it("keeps mutations, introspection and, with compileAfter 0, every query on graphql-js", async () => {
    const execution = new CompiledExecution(schema, { compileAfter: 1 });
    const run = await executorOf(execution);
    const mutation = parse(`mutation { touch }`);
    for (let i = 0; i < 3; i++) await run(mutation);
    expect(touched).toBe(3);
    const introspection = parse(`{ __schema { queryType { name } } }`);
    expect(await run(introspection)).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
    expect(execution.compiledCount).toBe(0);

    const never = new CompiledExecution(schema, { compileAfter: 0 });
    const runNever = await executorOf(never);
    for (let i = 0; i < 5; i++) await runNever(query, { n: 1 });
    expect(never.compiledCount).toBe(0);
  });

  it("keeps at most maxCompiled compiled queries", async () => {
    const execution = new CompiledExecution(schema, { compileAfter: 1, maxCompiled: 2 });
    const run = await executorOf(execution);
    const documents = [1, 2, 3].map((n) => parse(`{ items(first: ${n}) { id } }`));
    for (const document of documents) await run(document);
    expect(execution.compiledCount).toBe(2);
    // The one dropped first runs on graphql-js again until it is compiled anew.
    expect(await run(documents[0]!)).toEqual(await execute({ schema, document: documents[0]! }));
    expect(execution.compiledCount).toBe(2);
  });
});

describe("compilation budget", () => {
  it("compiles at most maxCompilesPerMinute documents; the others run on graphql-js with the same answers", async () => {
    const execution = new CompiledExecution(schema, { compileAfter: 1, maxCompilesPerMinute: 2 });
    const run = await executorOf(execution);
    for (const n of [1, 2, 3, 4]) {
      const document = parse(`{ items(first: ${n}) { id } }`);
      expect(await run(document)).toEqual(await execute({ schema, document }));
    }
    expect(execution.compiledCount).toBe(2);
  });
});
