import type { EntityManager } from "typeorm";
import { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { badInput } from "../errors.js";
import { keysetPage, pageRequest, seqKey, type KeyRange, type Page, type PageRequest } from "../services/paging.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { Catalog } from "../services/catalog.js";
import { User } from "../../entities/user.js";

export interface HistoryFilter extends PageRequest {
  source?: DeploymentSource | null;
  status?: DeploymentStatus | null;
}

/** Reads the deployment index: keyset-paged history, lookups by revision and id. */
export class DeploymentQueries {
  private readonly deploymentRows: RowReader<Deployment>;
  private readonly authorRows: RowReader<User>;

  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
  ) {
    // A history page shows its rows' change lists only when asked for them, and never their file lists.
    this.deploymentRows = new RowReader(db.dataSource, Deployment, "d", ["changes", "files"]);
    this.authorRows = new RowReader(db.dataSource, User, "author");
  }

  async history(actor: Actor, project: string, tenant: string, environment: string, filter: HistoryFilter): Promise<Page<Deployment>> {
    const access = await this.access.project(actor, project);
    const te = await this.catalog.tenantEnvironment(access.project, tenant, environment);
    return this.historyOf(te, filter);
  }

  /** Newest first, keyset-paged on seq: a page costs the same at any history length. */
  historyOf(te: TenantEnvironment, filter: HistoryFilter): Promise<Page<Deployment>> {
    return keysetPage({
      kind: "dep",
      key: seqKey,
      keyOf: (d: Deployment) => d.seq,
      ...pageRequest(filter),
      fetch: (range, limit) => this.page(te.id, filter.source ?? null, filter.status ?? null, range, limit),
      count: () => this.count(te.id, filter.source ?? null, filter.status ?? null),
    });
  }

  /**
   * One page of rows with their authors joined, in fixed SQL (one text per filter combination):
   * the history is the most read list, and the query builder's per-call SQL generation and
   * generic hydration cost several times what SQLite spends on the query.
   */
  private async page(teId: string, source: DeploymentSource | null, status: DeploymentStatus | null, range: KeyRange<number>, limit: number): Promise<Deployment[]> {
    const params: unknown[] = [teId];
    const p = (value: unknown) => {
      params.push(value);
      return this.db.param(params.length);
    };
    let where = `"d"."tenantEnvironmentId" = ${this.db.param(1)}`;
    if (source) where += ` AND "d"."source" = ${p(source)}`;
    if (status) where += ` AND "d"."status" = ${p(status)}`;
    // The bounds and order of descendingBy (src/services/paging.ts), in SQL.
    if (range.after !== null) where += ` AND "d"."seq" < ${p(range.after)}`;
    if (range.before !== null) where += ` AND "d"."seq" > ${p(range.before)}`;
    const order = range.backward ? "ASC" : "DESC";
    const limitParam = p(limit);
    // The same few texts again and again: built once each, so the statement cache finds them by an interned key.
    const key = `${where} ${order} ${limitParam}`;
    let sql = this.pageSql.get(key);
    if (!sql) {
      sql = `SELECT ${this.deploymentRows.select}, ${this.authorRows.select} FROM "deployment" "d" LEFT JOIN "user" "author" ON "author"."id" = "d"."authorId" WHERE ${where} ORDER BY "d"."seq" ${order} LIMIT ${limitParam}`;
      this.pageSql.set(key, sql);
    }
    const rows: Record<string, unknown>[] = await this.db.read(sql, params);
    // A page has few authors: each is read once and shared by its rows.
    const authors = new Map<unknown, User>();
    return rows.map((row) => {
      const deployment = this.deploymentRows.read(row)!;
      let author = authors.get(row.author_id);
      if (!author) authors.set(row.author_id, (author = this.authorRows.read(row)!));
      deployment.author = author;
      return deployment;
    });
  }

  /** Page statement texts by filter combination (at most 2 x 2 x 2 x 2 x 2 of them). */
  private readonly pageSql = new Map<string, string>();

  private async count(teId: string, source: DeploymentSource | null, status: DeploymentStatus | null): Promise<number> {
    const params: unknown[] = [teId];
    let where = `"tenantEnvironmentId" = ${this.db.param(1)}`;
    if (source) {
      params.push(source);
      where += ` AND "source" = ${this.db.param(params.length)}`;
    }
    if (status) {
      params.push(status);
      where += ` AND "status" = ${this.db.param(params.length)}`;
    }
    const rows = await this.db.read(`SELECT COALESCE(SUM("count"), 0) AS "total" FROM "deployment_count" WHERE ${where}`, params);
    return Number((rows[0]?.total as string | number | null | undefined) ?? 0);
  }

  /** The deployment of this tenant-environment at a full or abbreviated revision; null when there is none. */
  async findByRevision(te: TenantEnvironment, revision: string): Promise<Deployment | null> {
    const rev = revision.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(rev)) return null;
    const full = rev.length >= 40;
    const rows = await this.db.read(
      `SELECT ${this.deploymentRows.select}, ${this.authorRows.select} FROM "deployment" "d" LEFT JOIN "user" "author" ON "author"."id" = "d"."authorId" ` +
        `WHERE "d"."tenantEnvironmentId" = ${this.db.param(1)} AND "d"."revision" ${full ? "=" : "LIKE"} ${this.db.param(2)} LIMIT ${full ? 1 : 2}`,
      [te.id, full ? rev : `${rev}%`],
    );
    if (rows.length > 1) throw badInput(`revision "${revision}" is ambiguous in ${te.path}: give more characters`);
    return rows[0] ? this.withAuthor(rows[0]) : null;
  }

  private withAuthor(row: Record<string, unknown>): Deployment {
    const deployment = this.deploymentRows.read(row)!;
    deployment.author = this.authorRows.read(row)!;
    return deployment;
  }

  async byId(id: string): Promise<Deployment | null> {
    return this.db.manager.findOne(Deployment, { where: { id }, relations: { author: true } });
  }

  /** Deployments of a tenant-environment newer than `seq` and not in status `except`, oldest first. */
  async newerThan(tx: EntityManager, teId: string, seq: number, except: DeploymentStatus): Promise<Deployment[]> {
    const rows: Record<string, unknown>[] = await tx.query(
      `SELECT ${this.deploymentRows.select} FROM "deployment" "d" WHERE "d"."tenantEnvironmentId" = ${this.db.param(1)} AND "d"."seq" > ${this.db.param(2)} AND "d"."status" <> ${this.db.param(3)} ORDER BY "d"."seq" ASC`,
      [teId, seq, except],
    );
    return rows.map((row) => this.deploymentRows.read(row)!);
  }
}
