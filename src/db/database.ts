import path from "node:path";
import { mkdirSync } from "node:fs";
import { DataSource, QueryFailedError, type EntityManager, type SelectQueryBuilder, type ObjectLiteral } from "typeorm";
import { ALL_ENTITIES } from "../../entities/index.js";
import { KeyedMutex, KeyedRwLock, Mutex, Semaphore } from "../lib/mutex.js";
import { MIGRATIONS } from "./migrations/index.js";

export type Dialect = "sqlite" | "postgres";

/** The n-th (1-based) bind parameter in raw SQL for a data source's dialect: `$n` on PostgreSQL, `?` on SQLite. */
export function bindParameter(dataSource: DataSource, n: number): string {
  return dataSource.options.type === "postgres" ? `$${n}` : "?";
}

const PG_POOL_SIZE = 10;
/** Prepared statements `read` keeps on SQLite (oldest dropped first). */
const MAX_CACHED_STATEMENTS = 200;

/** The part of better-sqlite3's connection `read` uses. */
interface SqliteStatement {
  all(...params: unknown[]): Record<string, unknown>[];
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
/** Advisory lock key spaces (the first key of the two-key form). */
const PROJECT_LOCKS = 1;
const TENANT_ENVIRONMENT_LOCKS = 2;

/** Work at the end of every transaction: `beforeCommit` inside it, `afterCommit` once it committed. */
export interface TransactionHook {
  beforeCommit(tx: EntityManager): Promise<void>;
  afterCommit?(tx: EntityManager): void;
}

export interface DatabaseOptions {
  /** postgres://… or unset for SQLite. */
  url: string | null;
  /** SQLite file; ignored for PostgreSQL. */
  sqliteFile: string;
  /** PostgreSQL schema to use (tests give each run its own). */
  schema?: string;
}

/**
 * The one way the services reach the database. Writes go through `transaction`: on SQLite the
 * driver shares one connection, so concurrent transactions would interleave; they are queued here.
 */
export class Database {
  private readonly writeLock = new Mutex();
  private readonly projectLocks = new KeyedRwLock();
  private readonly tenantEnvironmentLocks = new KeyedMutex();
  private readonly transactionHooks: TransactionHook[] = [];
  /**
   * On PostgreSQL each held lock keeps a pooled connection for its session-level advisory lock;
   * capping the holders below the pool size leaves connections for the work they do meanwhile
   * (without it, as many holders as connections would wait on each other forever).
   */
  private readonly lockHolders = new Semaphore(PG_POOL_SIZE - 2);

  private constructor(
    readonly dataSource: DataSource,
    readonly dialect: Dialect,
  ) {}

  static async open(options: DatabaseOptions): Promise<Database> {
    const url = options.url;
    let dataSource: DataSource;
    let dialect: Dialect;
    if (url && /^postgres(ql)?:/.test(url)) {
      dialect = "postgres";
      dataSource = new DataSource({
        type: "postgres",
        url,
        schema: options.schema,
        entities: ALL_ENTITIES,
        migrations: MIGRATIONS,
        migrationsRun: false,
        synchronize: false,
        logging: false,
        // search_path too, so the few raw SQL statements find the tables in that schema.
        extra: { max: PG_POOL_SIZE, ...(options.schema ? { options: `-c search_path="${options.schema.replace(/"/g, "")}"` } : {}) },
      });
    } else {
      dialect = "sqlite";
      const file = url ? url.replace(/^(sqlite|file):(\/\/)?/, "") : options.sqliteFile;
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      dataSource = new DataSource({
        type: "better-sqlite3",
        database: file,
        entities: ALL_ENTITIES,
        migrations: MIGRATIONS,
        synchronize: false,
        logging: false,
        enableWAL: true,
        timeout: 10_000,
        // WAL with synchronous=NORMAL: a transaction survives a crash of the process (what the
        // reconciler is built for) and is fsynced at checkpoints; only an OS crash or power loss can
        // drop the newest ones, the same guarantee libgit2 gives the commits (it does not fsync
        // objects either). FULL would add an fsync to each of the three transactions of a rollback.
        prepareDatabase: (db: { pragma(sql: string): unknown }) => {
          db.pragma("synchronous = NORMAL");
        },
      });
    }
    if (dialect === "postgres" && options.schema) {
      // The schema must exist before TypeORM connects with search_path pointing at it.
      const bootstrap = new DataSource({ type: "postgres", url: url!, synchronize: false });
      await bootstrap.initialize();
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema.replace(/"/g, "")}"`);
      await bootstrap.destroy();
    }
    await dataSource.initialize();
    const db = new Database(dataSource, dialect);
    await db.migrate();
    return db;
  }

  async migrate(): Promise<void> {
    if (this.dialect === "postgres") {
      // Replicas may start together: one runs the migrations, the others wait on the lock.
      await this.dataSource.query("SELECT pg_advisory_lock(74510001)");
      try {
        await this.dataSource.runMigrations({ transaction: "all" });
      } finally {
        await this.dataSource.query("SELECT pg_advisory_unlock(74510001)");
      }
    } else {
      await this.writeLock.run(() => this.dataSource.runMigrations({ transaction: "all" }));
    }
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /**
   * A read in fixed SQL, rows as the driver returns them: in `tx` when one is given, else outside
   * any transaction. There, on SQLite, the statement runs on the driver's own connection (what
   * TypeORM's `query` does, so it sees the same data) from a cache of prepared statements, without
   * the query runner's per-call promise chain, logging and event broadcast, which cost more than
   * SQLite's own work on the hot reads (authentication, access, history pages). The texts come
   * from code, so the cache stays small.
   */
  async read(sql: string, params: readonly unknown[], tx?: EntityManager): Promise<Record<string, unknown>[]> {
    // Inside a transaction the statement belongs to it.
    if (tx && tx !== this.manager) return (await tx.query(sql, params as unknown[])) as Record<string, unknown>[];
    return this.readOutsideTransaction(sql, params);
  }

  /** `read` outside a transaction (on SQLite traced on its own: it bypasses the query runner). */
  async readOutsideTransaction(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    if (this.dialect === "postgres") return (await this.dataSource.query(sql, params as unknown[])) as Record<string, unknown>[];
    let statement = this.statements.get(sql);
    if (!statement) {
      const connection = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
      statement = connection.prepare(sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    // better-sqlite3 binds no booleans: 1 and 0, as TypeORM's query runner converts them.
    const values = params.map((p) => (typeof p === "boolean" ? Number(p) : p));
    // TypeORM's logger sees every statement, these included (logging settings, statement counts).
    this.dataSource.logger.logQuery(sql, values);
    try {
      return statement.all(...values);
    } catch (err) {
      throw new QueryFailedError(sql, values, err as Error);
    }
  }

  private readonly statements = new Map<string, SqliteStatement>();

  /**
   * Runs `work` in one transaction; everything it writes lands together or not at all. The
   * transaction hooks run at its end, inside it (the webhook outbox writes there, last, so its row
   * locks are always taken after every other lock of the transaction), and once it committed.
   */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    let manager: EntityManager | null = null;
    const run = () =>
      this.dataSource.transaction(async (tx) => {
        manager = tx;
        const result = await work(tx);
        for (const hook of this.transactionHooks) await hook.beforeCommit(tx);
        return result;
      });
    const result = this.dialect === "sqlite" ? await this.writeLock.run(run) : await run();
    for (const hook of this.transactionHooks) hook.afterCommit?.(manager!);
    return result;
  }

  /** Adds work to the end of every transaction (see `transaction`). */
  addTransactionHook(hook: TransactionHook): void {
    this.transactionHooks.push(hook);
  }

  /**
   * Work on a whole project (reindex, crash reconciliation): waits for every tenant-environment
   * lock of the project to be released and holds new ones back, in this process and, on
   * PostgreSQL, across replicas.
   */
  withProjectLock<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    return this.projectLocks.write(projectId, () => this.withAdvisoryLocks([["exclusive", PROJECT_LOCKS, projectId]], work));
  }

  /**
   * Serializes work on one tenant-environment's history (commit, then record it) across this
   * process and, on PostgreSQL, across replicas, so its history order always follows commit
   * order. Different tenant-environments of a project proceed side by side; the Git store's
   * compare-and-swap orders their commits on the branch.
   */
  withTenantEnvironmentLock<T>(projectId: string, tenantEnvironmentId: string, work: () => Promise<T>): Promise<T> {
    return this.projectLocks.read(projectId, () =>
      this.tenantEnvironmentLocks.run(tenantEnvironmentId, () =>
        this.withAdvisoryLocks(
          [
            ["shared", PROJECT_LOCKS, projectId],
            ["exclusive", TENANT_ENVIRONMENT_LOCKS, tenantEnvironmentId],
          ],
          work,
        ),
      ),
    );
  }

  /** Session-level advisory locks on PostgreSQL, taken in the order given and released in reverse; nothing on SQLite (one process). */
  private async withAdvisoryLocks<T>(locks: ["shared" | "exclusive", number, string][], work: () => Promise<T>): Promise<T> {
    if (this.dialect !== "postgres") return work();
    return this.lockHolders.run(async () => {
      const runner = this.dataSource.createQueryRunner();
      await runner.connect();
      const held: { suffix: string; params: [number, number] }[] = [];
      try {
        for (const [mode, space, id] of locks) {
          const lock = { suffix: mode === "shared" ? "_shared" : "", params: [space, advisoryKey(id)] as [number, number] };
          await runner.query(`SELECT pg_advisory_lock${lock.suffix}($1, $2)`, lock.params);
          held.unshift(lock);
        }
        return await work();
      } finally {
        for (const lock of held) await runner.query(`SELECT pg_advisory_unlock${lock.suffix}($1, $2)`, lock.params);
        await runner.release();
      }
    });
  }

  /** The n-th (1-based) bind parameter in raw SQL for this dialect. */
  param(n: number): string {
    return bindParameter(this.dataSource, n);
  }

  /** Row lock for read-modify-write inside a transaction (SQLite transactions are already serialized). */
  forUpdate<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
    return this.dialect === "postgres" ? qb.setLock("pessimistic_write") : qb;
  }

  async ping(): Promise<void> {
    await this.dataSource.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** A stable 32-bit key for pg_advisory_lock from an id. */
function advisoryKey(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}
