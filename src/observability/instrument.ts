import { ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from "@opentelemetry/semantic-conventions";
import type { QueryRunner } from "typeorm";
import type { Services } from "../app.js";
import type { Database } from "../db/database.js";
import type { GitStore, ProjectRepository } from "../git/git-store.js";
import { inSpan, tracingEnabled } from "./tracing.js";

/**
 * Spans around the three things a GraphQL operation spends its time in: service calls, Git and
 * the database. Each wrapper returns its argument untouched while tracing is off, so the
 * default server pays nothing for them.
 */

/** Members of Services that are not service objects, or are traced at their own level. */
const NOT_SERVICES = new Set(["config", "logger", "db", "git", "events"]);

/**
 * Span prefixes that outlived a class: the rollback and deployment services were split into
 * smaller classes, and their spans keep the names dashboards and the README know
 * (`RollbackService.request`, `DeploymentService.history`).
 */
const SPAN_PREFIX: Record<string, string> = {
  RollbackRequests: "RollbackService",
  RollbackQueries: "RollbackService",
  RollbackExecutor: "RollbackService",
  ExecutionReconciler: "RollbackService",
  DeployService: "DeploymentService",
  DeploymentRecorder: "DeploymentService",
  DeploymentQueries: "DeploymentService",
  RevisionReader: "DeploymentService",
};

/** The services as resolvers see them, each method call a span named `Class.method`. */
export function traceServices<S extends Services>(services: S): S {
  if (!tracingEnabled()) return services;
  const traced: Record<string, unknown> = { ...(services as object) };
  for (const [key, value] of Object.entries(services)) {
    if (NOT_SERVICES.has(key) || !isInstance(value)) continue;
    traced[key] = traceMethods(value, SPAN_PREFIX[value.constructor.name] ?? value.constructor.name, () => ({}));
  }
  return traced as unknown as S;
}

/**
 * Repository methods that do real work get a span each. The per-blob and per-entry reads
 * (readFile, readBlob, entryId, commitInfo, isAncestor) run hundreds of times in one comparison
 * and are cached: a span each would bury the trace and cost more than the call.
 */
const TRACED_REPOSITORY_METHODS = new Set<keyof ProjectRepository>([
  "head",
  "refresh",
  "resolveCommit",
  "history",
  "readFiles",
  "listFiles",
  "changedFiles",
  "commit",
  "publishOnce",
]);

export function traceGitStore(store: GitStore): GitStore {
  if (!tracingEnabled()) return store;
  const repositories = new WeakMap<ProjectRepository, ProjectRepository>();
  const tracedRepository = (repo: ProjectRepository) => {
    let traced = repositories.get(repo);
    if (!traced) {
      traced = traceMethods(
        repo,
        "git",
        () => ({ "vcs.repository.name": repo.project }),
        (method) => TRACED_REPOSITORY_METHODS.has(method as keyof ProjectRepository),
      );
      repositories.set(repo, traced);
    }
    return traced;
  };
  return {
    open: (project) => inSpan("git.open", { "vcs.repository.name": project }, async () => tracedRepository(await store.open(project))),
    exists: (project) => store.exists(project),
    list: () => store.list(),
    repositoryPath: (project) => store.repositoryPath(project),
    ping: () => inSpan("git.ping", {}, () => store.ping()),
  };
}

/** A span per SQL statement (named after its first keyword, the text without parameter values) and per transaction. */
export function traceDatabase(db: Database): Database {
  if (!tracingEnabled()) return db;
  const system = db.dialect === "postgres" ? DB_SYSTEM_NAME_VALUE_POSTGRESQL : "sqlite";
  const driver = db.dataSource.driver as unknown as { createQueryRunner(mode: "master" | "slave"): QueryRunner };
  const createQueryRunner = driver.createQueryRunner.bind(driver);
  const patched = new WeakSet<QueryRunner>();
  const statementSpan = <T>(sql: string, run: () => Promise<T>): Promise<T> => {
    const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "QUERY";
    return inSpan(operation, { [ATTR_DB_SYSTEM_NAME]: system, [ATTR_DB_OPERATION_NAME]: operation, [ATTR_DB_QUERY_TEXT]: sql.slice(0, 2000) }, run);
  };
  driver.createQueryRunner = (mode) => {
    const runner = createQueryRunner(mode);
    if (!patched.has(runner)) {
      patched.add(runner);
      const query = runner.query.bind(runner) as (sql: string, parameters?: unknown[], structured?: boolean) => Promise<unknown>;
      runner.query = ((sql: string, parameters?: unknown[], structured?: boolean) => statementSpan(sql, () => query(sql, parameters, structured))) as QueryRunner["query"];
    }
    return runner;
  };
  // On SQLite a read outside a transaction runs beside the query runner (on PostgreSQL through it, traced above).
  if (db.dialect === "sqlite") {
    const read = db.readOutsideTransaction.bind(db);
    db.readOutsideTransaction = (sql, params) => statementSpan(sql, () => read(sql, params));
  }
  const transaction = db.transaction.bind(db);
  db.transaction = (work) => inSpan("db.transaction", { [ATTR_DB_SYSTEM_NAME]: system }, () => transaction(work));
  return db;
}

function traceMethods<T extends object>(target: T, prefix: string, attributes: () => Record<string, string>, traced: (method: string) => boolean = () => true): T {
  const wrappers = new Map<string, unknown>();
  return new Proxy(target, {
    get(obj, property) {
      const value: unknown = Reflect.get(obj, property, obj);
      if (typeof value !== "function" || typeof property !== "string" || property === "constructor" || !traced(property)) return value;
      let wrapper = wrappers.get(property);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => inSpan(`${prefix}.${property}`, attributes(), () => method.apply(obj, args));
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

function isInstance(value: unknown): value is object {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value);
}
