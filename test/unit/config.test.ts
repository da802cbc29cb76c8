import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

/** The environment the server reads, validated once at start: defaults, and one line naming the variable on a bad value. */
describe("configuration", () => {
  const failure = (env: Record<string, string | undefined>): ConfigError => {
    try {
      loadConfig(env, "/srv/app");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  it("has the documented defaults", () => {
    const config = loadConfig({}, "/srv/app");
    expect(config).toMatchObject({ port: 4000, host: "127.0.0.1", dataDir: path.resolve("/srv/app", "data"), databaseUrl: null, seed: "demo" });
  });

  it("reads PORT, HOST, DATA_DIR, DATABASE_URL and SEED", () => {
    const config = loadConfig({ PORT: "8080", HOST: "0.0.0.0", DATA_DIR: "/var/lib/rollback", DATABASE_URL: "postgres://u:p@db:5432/rb", SEED: "none" }, "/srv/app");
    expect(config).toMatchObject({ port: 8080, host: "0.0.0.0", dataDir: "/var/lib/rollback", databaseUrl: "postgres://u:p@db:5432/rb", seed: "none" });
  });

  it("lets 8 GraphQL operations execute at once unless GRAPHQL_MAX_CONCURRENT says otherwise, and refuses 0", () => {
    expect(loadConfig({}, "/srv/app").graphqlMaxConcurrent).toBe(8);
    expect(loadConfig({ GRAPHQL_MAX_CONCURRENT: "32" }, "/srv/app").graphqlMaxConcurrent).toBe(32);
    expect(failure({ GRAPHQL_MAX_CONCURRENT: "0" }).variable).toBe("GRAPHQL_MAX_CONCURRENT");
  });

  it("resolves a relative DATA_DIR against the working directory", () => {
    expect(loadConfig({ DATA_DIR: "state" }, "/srv/app").dataDir).toBe("/srv/app/state");
  });

  it.each(["abc", "-1", "65536", "80.5", "4000x"])("refuses PORT=%s naming PORT", (value) => {
    const err = failure({ PORT: value });
    expect(err.variable).toBe("PORT");
    expect(err.message).toContain("PORT");
    expect(err.message.split("\n")).toHaveLength(1);
  });

  it.each(["yes", "full", "DEMO!"])("refuses SEED=%s naming SEED", (value) => {
    const err = failure({ SEED: value });
    expect(err.variable).toBe("SEED");
    expect(err.message).toContain("SEED");
  });

  it.each(["not a url", "mysql://db/rollback", "http://db:5432/x"])("refuses DATABASE_URL=%s naming DATABASE_URL", (value) => {
    const err = failure({ DATABASE_URL: value });
    expect(err.variable).toBe("DATABASE_URL");
    expect(err.message).toContain("DATABASE_URL");
  });

  it("refuses an empty DATA_DIR naming DATA_DIR", () => {
    expect(failure({ DATA_DIR: "  " }).variable).toBe("DATA_DIR");
  });

  it("refuses a HOST with spaces naming HOST", () => {
    expect(failure({ HOST: "local host" }).variable).toBe("HOST");
  });

  it("refuses a cap of zero at start, naming the variable", () => {
    expect(() => loadConfig({ GIT_HTTP_MAX_PROCESSES: "0" })).toThrow(/^GIT_HTTP_MAX_PROCESSES: must be between 1 and 1024, got 0$/);
  });
});
