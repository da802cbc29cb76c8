import "reflect-metadata";
import { GraphQLError, parse, validate, type GraphQLSchema } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors.js";
import { limitRules } from "../../../src/http/query-limits.js";
import { buildAppSchema } from "../../../src/schema/build-schema.js";
import { checkJson, checkText, ruleFor, TEXT_RULES } from "../../../src/services/input-rules.js";
import { fieldPathDepthError, MAX_FIELD_PATH_SEGMENTS, parseFieldSelector } from "../../../src/yaml/selectors.js";

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { code: (err as AppError).code, message: (err as AppError).message };
  }
  throw new Error("accepted");
}

describe("the shared input rules", () => {
  it("refuses NUL and other control characters, naming the argument", () => {
    expect(refusal(() => checkText("input.justification", "ok\u0000Author: x", ruleFor("justification")))).toEqual({
      code: "BAD_USER_INPUT",
      message: "input.justification must not contain control characters",
    });
    expect(refusal(() => checkText("service", "api-gateway\u0000garbage", ruleFor("service"))).message).toBe("service must not contain control characters or line breaks");
    expect(refusal(() => checkText("health", "Healthy\u001b[31m", ruleFor("health"))).code).toBe("BAD_USER_INPUT");
    expect(refusal(() => checkText("summary", "a\u007fb", ruleFor("summary"))).code).toBe("BAD_USER_INPUT");
    expect(refusal(() => checkText("summary", "a\u0085b", ruleFor("summary"))).code).toBe("BAD_USER_INPUT");
  });

  it("allows newline and tab in free text only", () => {
    expect(() => checkText("input.justification", "first line\n\tsecond", ruleFor("justification"))).not.toThrow();
    expect(() => checkText("text", "note\nmore", ruleFor("text"))).not.toThrow();
    expect(refusal(() => checkText("tenant", "acme\n", ruleFor("tenant"))).message).toBe("tenant must not contain control characters or line breaks");
    expect(refusal(() => checkText("input.targetSha", "abc\tdef", ruleFor("targetSha"))).code).toBe("BAD_USER_INPUT");
  });

  it("bounds each class: 2,000 for justifications and summaries, 10,000 for notes, 200 for names and identifiers", () => {
    expect(ruleFor("justification").max).toBe(2000);
    expect(ruleFor("summary").max).toBe(2000);
    expect(ruleFor("text").max).toBe(10_000);
    for (const name of ["project", "tenant", "environment", "service", "targetSha", "id", "health", "slug", "selector"]) expect(ruleFor(name)).toBe(TEXT_RULES.identifier);
    expect(TEXT_RULES.identifier.max).toBe(200);
    expect(refusal(() => checkText("input.justification", "x".repeat(2001), ruleFor("justification"))).message).toBe(
      "input.justification must be at most 2000 characters, got 2001",
    );
    expect(refusal(() => checkText("text", "x".repeat(10_001), ruleFor("text"))).message).toBe("text must be at most 10000 characters, got 10001");
    expect(refusal(() => checkText("health", "x".repeat(201), ruleFor("health"))).message).toBe("health must be at most 200 characters, got 201");
    expect(() => checkText("text", "x".repeat(10_000), ruleFor("text"))).not.toThrow();
  });

  it("checks keys and values inside JSON arguments, and their nesting", () => {
    expect(refusal(() => checkJson("set", { "image.tag": "v\u0000evil" }, "set")).message).toBe('set["image.tag"] must not contain control characters or line breaks');
    expect(refusal(() => checkJson("set", { "image.tag": "v1\nAuthor: mallory" }, "set")).code).toBe("BAD_USER_INPUT");
    expect(refusal(() => checkJson("set", { "image\u0000.tag": "v1" }, "set")).message).toMatch(/^set key "image\\u0000.tag" must not contain control characters/);
    expect(refusal(() => checkJson("set", { [`k${"x".repeat(300)}`]: 1 }, "set")).message).toMatch(/must be at most 200 characters, got 301$/);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    expect(refusal(() => checkJson("set", { "image.tag": deep }, "set")).message).toBe("set is nested more than 32 levels deep");
    expect(() => checkJson("set", { "image.tag": "v2.1.0", "replicas.max": 3, "env.list": ["a", { b: null }] }, "set")).not.toThrow();
  });

  it("refuses a field path deeper than 32 segments before anything parses it", () => {
    const path = (n: number) => Array.from({ length: n }, () => "a").join(".");
    expect(MAX_FIELD_PATH_SEGMENTS).toBe(32);
    expect(fieldPathDepthError(path(32))).toBeNull();
    expect(fieldPathDepthError(path(33))).toBe("a field path has at most 32 segments, got 33");
    expect(refusal(() => checkJson("set", { [path(5001)]: 1 }, "set")).message).toMatch(/^set key "a\.a\.a.*": a field path has at most 32 segments, got 5001$/);
    expect(() => parseFieldSelector(path(5001))).toThrow(/at most 32 segments, got 5001/);
    expect(refusal(() => checkText("input.fields[0]", path(40), ruleFor("fields"))).message).toBe("input.fields[0]: a field path has at most 32 segments, got 40");
  });
});

describe("the validation step in the schema", () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema(null);
  });

  const call = (type: "Query" | "Mutation", field: string, args: Record<string, unknown>) => {
    const resolve =
      schema.getType(type) && (schema.getType(type) as unknown as { getFields(): Record<string, { resolve: (...a: unknown[]) => unknown }> }).getFields()[field]!.resolve;
    return () => resolve!({}, args, { actor: null }, {});
  };

  it("checks every string argument before the resolver runs, with the argument's path", () => {
    const input = { project: "demo", tenant: "acme", environment: "staging", mode: "SERVICE", service: "api-gateway\u0000garbage", targetSha: "abc" };
    expect(refusal(call("Query", "previewRollback", { input })).message).toBe("input.service must not contain control characters or line breaks");
    expect(refusal(call("Mutation", "requestRollback", { input: { ...input, service: "api-gateway", justification: "ok\u0000" } })).message).toBe(
      "input.justification must not contain control characters",
    );
    expect(refusal(call("Mutation", "addRollbackNote", { id: "x", text: "y".repeat(10_001) })).message).toBe("text must be at most 10000 characters, got 10001");
    expect(refusal(call("Mutation", "requestRollback", { input: { ...input, service: "api-gateway", mode: "FIELD", fields: ["image.tag", "a\u0000"] } })).message).toBe(
      "input.fields[1] must not contain control characters or line breaks",
    );
    expect(
      refusal(call("Mutation", "deploy", { input: { project: "demo", tenant: "acme", environment: "dev", service: "web", set: { "image.tag": "v\u0000evil" } } })).message,
    ).toBe('input.set["image.tag"] must not contain control characters or line breaks');
  });
});

describe("the query limit rules", () => {
  it("report each limit as a coded validation error naming its variable", async () => {
    const schema = await buildAppSchema(null);
    const limits = { maxDepth: 3, maxAliases: 1, maxDirectives: 1, maxTokens: 1000, maxCost: 1000 };
    const errors = validate(
      schema,
      parse('{ a: me { email } b: me { email @include(if: true) @skip(if: false) } project(slug: "x") { tenants { project { slug } } } }'),
      limitRules(limits),
    );
    expect(errors.map((e) => e.message).sort()).toEqual([
      "Aliases limit of 1 exceeded, found 2 (QUERY_MAX_ALIASES)",
      "Directives limit of 1 exceeded, found 2 (QUERY_MAX_DIRECTIVES)",
      "Query depth limit of 3 exceeded, found 4 (QUERY_MAX_DEPTH)",
    ]);
    for (const e of errors) expect(e).toBeInstanceOf(GraphQLError);
  });
});
