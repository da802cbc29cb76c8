import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Database } from "../../../src/db/database.js";
import { buildAppSchema, printAppSchema } from "../../../src/schema/build-schema.js";
import { dropSchema, PG_URL, postgresAvailable, uniqueSchema } from "../../helpers/postgres.js";

/** Pending statements TypeORM would run to make the database match the entities: none, if the migrations are complete. */
async function drift(db: Database): Promise<string[]> {
  const sql = await db.dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

describe("database schema", () => {
  const dirs: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const s of schemas) await dropSchema(s);
  });

  it("SQLite: the migrations create exactly what the entities describe", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "drift-"));
    dirs.push(dir);
    const db = await Database.open({ url: null, sqliteFile: path.join(dir, "x.sqlite") });
    try {
      expect(await drift(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it("PostgreSQL: the migrations create exactly what the entities describe", async () => {
    if (!(await postgresAvailable())) return;
    const schema = uniqueSchema("drift");
    schemas.push(schema);
    const db = await Database.open({ url: PG_URL, sqliteFile: "", schema });
    try {
      expect(await drift(db)).toEqual([]);
      // Running them again is a no-op (replicas start together).
      await db.migrate();
    } finally {
      await db.close();
    }
  });
});

describe("GraphQL schema", () => {
  it("schema/schema.graphql is what the resolvers emit (run npm run schema when this fails)", async () => {
    const committed = readFileSync(path.resolve("schema/schema.graphql"), "utf8");
    expect(printAppSchema(await buildAppSchema(null))).toBe(committed);
  });

  /** graphql-schema-linter with the project's rules (.graphql-schema-linterrc) on an SDL: its errors as "message (rule)". */
  function lintSchema(sdl: string): string[] {
    const run = spawnSync(path.resolve("node_modules/.bin/graphql-schema-linter"), ["--stdin", "--format", "json"], { input: sdl, encoding: "utf8" });
    const report = JSON.parse(run.stdout) as { errors: { message: string; rule: string }[] };
    return report.errors.map((e) => `${e.message} (${e.rule})`);
  }

  it("passes the schema linter: every type, field, argument and enum value described, names cased as GraphQL expects, Relay connections", async () => {
    expect(lintSchema(printAppSchema(await buildAppSchema(null)))).toEqual([]);
  });

  it("the linter's rules catch an undescribed field, argument or enum value and a badly cased name", () => {
    const errors = lintSchema(`"""Reads."""
type Query {
  """A thing."""
  thing(id: ID!): Thing
}
"""A thing."""
type Thing {
  """Its id."""
  id: ID!
  Status: Kind
}
"""Kinds."""
enum Kind {
  """Big."""
  BIG
  small
}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        "The field `Thing.Status` is missing a description. (fields-have-descriptions)",
        "The field `Thing.Status` is not camel cased. (fields-are-camel-cased)",
        "The `id` argument of `thing` is missing a description. (arguments-have-descriptions)",
        "The enum value `Kind.small` is missing a description. (enum-values-have-descriptions)",
        "The enum value `Kind.small` should be uppercase. (enum-values-all-caps)",
      ]),
    );
  });
});
