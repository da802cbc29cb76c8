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

  it("reads the Git endpoint's limits, with the documented defaults, naming a bad one", () => {
    expect(loadConfig({}, "/srv/app").gitHttp).toEqual({ orgSharePercent: 50, queueWaitSeconds: 20, bodyTimeoutSeconds: 30, maxBodyBytes: 16 * 1024 * 1024 });
    const env = { GIT_HTTP_ORG_SHARE_PERCENT: "25", GIT_HTTP_QUEUE_WAIT_SECONDS: "5", GIT_HTTP_BODY_TIMEOUT_SECONDS: "10", GIT_HTTP_MAX_BODY_BYTES: "65536" };
    expect(loadConfig(env, "/srv/app").gitHttp).toEqual({ orgSharePercent: 25, queueWaitSeconds: 5, bodyTimeoutSeconds: 10, maxBodyBytes: 65536 });
    expect(failure({ GIT_HTTP_ORG_SHARE_PERCENT: "0" }).message).toBe("GIT_HTTP_ORG_SHARE_PERCENT: must be between 1 and 100, got 0");
    expect(failure({ GIT_HTTP_BODY_TIMEOUT_SECONDS: "soon" }).message).toBe('GIT_HTTP_BODY_TIMEOUT_SECONDS: must be a whole number, got "soon"');
  });

  it("reads the query and body limits, with one line naming a bad one", () => {
    expect(loadConfig({}, "/srv/app")).toMatchObject({
      queryLimits: { maxDepth: 12, maxAliases: 30, maxDirectives: 50, maxTokens: 2000, maxCost: 100_000 },
      maxBodyBytes: 1024 * 1024,
    });
    const custom = loadConfig(
      { QUERY_MAX_DEPTH: "8", QUERY_MAX_ALIASES: "5", QUERY_MAX_DIRECTIVES: "4", QUERY_MAX_TOKENS: "500", QUERY_MAX_COST: "900", HTTP_MAX_BODY_BYTES: "65536" },
      "/srv/app",
    );
    expect(custom).toMatchObject({ queryLimits: { maxDepth: 8, maxAliases: 5, maxDirectives: 4, maxTokens: 500, maxCost: 900 }, maxBodyBytes: 65536 });
    expect(failure({ QUERY_MAX_DEPTH: "deep" }).message).toBe('QUERY_MAX_DEPTH: must be a whole number, got "deep"');
    expect(failure({ QUERY_MAX_COST: "0" }).message).toBe("QUERY_MAX_COST: must be between 1 and 100000000, got 0");
    expect(failure({ HTTP_MAX_BODY_BYTES: "10" }).message).toBe("HTTP_MAX_BODY_BYTES: must be between 1024 and 268435456, got 10");
  });
});
