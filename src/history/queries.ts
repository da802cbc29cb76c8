import type { EntityManager } from "typeorm";
import { Deployment, DeploymentCount } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { badInput } from "../errors.js";
import { descendingBy, keysetPage, pageRequest, seqKey, type Page, type PageRequest } from "../services/paging.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { Catalog } from "../services/catalog.js";

export interface HistoryFilter extends PageRequest {
  source?: DeploymentSource | null;
  status?: DeploymentStatus | null;
}

/** Reads the deployment index: keyset-paged history, lookups by revision and id. */
export class DeploymentQueries {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
  ) {}

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
      fetch: (range, limit) => {
        const qb = this.db.manager.createQueryBuilder(Deployment, "d").leftJoinAndSelect("d.author", "author").where("d.tenantEnvironmentId = :te", { te: te.id });
        if (filter.source) qb.andWhere("d.source = :source", { source: filter.source });
        if (filter.status) qb.andWhere("d.status = :status", { status: filter.status });
        return descendingBy(qb, "d.seq", range).limit(limit).getMany();
      },
      count: () => this.count(te.id, filter.source ?? null, filter.status ?? null),
    });
  }

  private async count(teId: string, source: DeploymentSource | null, status: DeploymentStatus | null): Promise<number> {
    const qb = this.db.manager.createQueryBuilder(DeploymentCount, "c").select("COALESCE(SUM(c.count), 0)", "total").where("c.tenantEnvironmentId = :teId", { teId });
    if (source) qb.andWhere("c.source = :source", { source });
    if (status) qb.andWhere("c.status = :status", { status });
    const row = await qb.getRawOne<{ total: string | number }>();
    return Number(row?.total ?? 0);
  }

  /** The deployment of this tenant-environment at a full or abbreviated revision; null when there is none. */
  async findByRevision(te: TenantEnvironment, revision: string): Promise<Deployment | null> {
    const rev = revision.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(rev)) return null;
    // Query builder with limit, not findOne: findOne with a relation costs TypeORM a second query.
    const qb = this.db.manager.createQueryBuilder(Deployment, "d").leftJoinAndSelect("d.author", "author").where("d.tenantEnvironmentId = :te", { te: te.id });
    if (rev.length >= 40) return qb.andWhere("d.revision = :rev", { rev }).limit(1).getOne();
    const matches = await qb
      .andWhere("d.revision LIKE :prefix", { prefix: `${rev}%` })
      .limit(2)
      .getMany();
    if (matches.length > 1) throw badInput(`revision "${revision}" is ambiguous in ${te.path}: give more characters`);
    return matches[0] ?? null;
  }

  async byId(id: string): Promise<Deployment | null> {
    return this.db.manager.findOne(Deployment, { where: { id }, relations: { author: true } });
  }

  /** Deployments of a tenant-environment newer than `seq`, oldest first. */
  async newerThan(tx: EntityManager, teId: string, seq: number): Promise<Deployment[]> {
    return tx.createQueryBuilder(Deployment, "d").where("d.tenantEnvironmentId = :teId", { teId }).andWhere("d.seq > :seq", { seq }).orderBy("d.seq", "ASC").getMany();
  }
}
