import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "graphql-ws";
import { createApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { afterAll, beforeAll } from "vitest";
import { wsClient } from "./subscriptions.js";
import { templateDir } from "./template.js";

/** A GraphQL response as a client sees it. */
export interface GqlResult<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; status?: number; [k: string]: unknown } }[];
}

export interface TestServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  dataDir: string;
  app: App;
  server: RunningServer;
  /** Demo users' tokens by email (empty without the demo seed). */
  tokens: Record<string, string>;
  /** Sends a GraphQL operation over HTTP as the holder of `token` (null: no Authorization header). */
  gql<T = Record<string, unknown>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql, but fails the test on any error and returns data. */
  ok<T = Record<string, unknown>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T>;
  /** A graphql-ws client authenticated with `token`. */
  ws(token: string | null): Client;
  repoPath(project: string): string;
  /** Runs git against a project's bare repository and returns stdout. */
  git(project: string, ...args: string[]): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** "template" (default): a copy of a demo seed made once per test run; "none": empty. */
  seed?: "template" | "none";
  env?: Record<string, string>;
  dataDir?: string;
}

export function freshDataDir(prefix = "rbs-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A fresh directory holding a copy of the demo-seeded template (for servers started as processes). */
export function copyOfTemplate(prefix = "rbs-test-copy-"): string {
  const dir = freshDataDir(prefix);
  cpSync(templateDir(), dir, { recursive: true });
  return dir;
}

/** Starts the real server in this process on a free port, over a copy of the seeded template. */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? freshDataDir();
  let tokens: Record<string, string> = {};
  if ((options.seed ?? "template") === "template" && !existsSync(path.join(dataDir, "rollback.sqlite"))) {
    cpSync(templateDir(), dataDir, { recursive: true });
  }
  if (existsSync(path.join(dataDir, "demo-tokens.json"))) tokens = JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string>;
  // Every query compiled at first sight: the tests then drive the path repeated queries take in production.
  const config = loadConfig({ DATA_DIR: dataDir, PORT: "0", SEED: "none", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", GRAPHQL_COMPILE_AFTER: "1", ...options.env });
  const app = await createApp(config, createLogger(config.logLevel));
  const server = await startServer(app);
  const graphqlUrl = `${server.url}/graphql`;
  const wsUrl = graphqlUrl.replace(/^http/, "ws");
  const clients: Client[] = [];

  const gql = async <T>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> => {
    const res = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  };

  return {
    url: server.url,
    graphqlUrl,
    wsUrl,
    dataDir,
    app,
    server,
    tokens,
    gql,
    async ok<T>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T> {
      const result = await gql<T>(token, query, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as T;
    },
    ws(token: string | null): Client {
      const client = wsClient(wsUrl, token);
      clients.push(client);
      return client;
    },
    repoPath: (project) => path.join(dataDir, "repos", `${project}.git`),
    git: (project, ...args) => execFileSync("git", ["-C", path.join(dataDir, "repos", `${project}.git`), ...args], { encoding: "utf8" }),
    async stop() {
      await Promise.all(clients.map(async (c) => c.dispose()));
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The test server of the enclosing describe block: started before its tests (in a beforeAll
 * registered first, so the block's own hooks see it running) and stopped after them. The handle
 * stands for the running server, so tests use it as a TestServer.
 */
export function useTestServer(options: StartOptions = {}): TestServer {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(options);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return new Proxy({} as TestServer, {
    get(_target, property) {
      if (!running) throw new Error("the test server starts in beforeAll: use it in hooks and tests");
      // TestServer's methods are closures over the server, not users of `this`: they work detached.
      return Reflect.get(running, property) as unknown;
    },
  });
}
