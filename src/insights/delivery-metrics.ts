import { In } from "typeorm";
import { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { badInput, notFound } from "../errors.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { Catalog } from "../services/catalog.js";

export interface MetricsFilter {
  project: string;
  tenant?: string | null;
  environment?: string | null;
  since?: Date | null;
  until?: Date | null;
}

export interface RecurringRollbackFigure {
  service: string | null;
  targetRevision: string;
  count: number;
  lastAt: Date;
}

export interface DeliveryMetricsFigures {
  tenant: string;
  environment: string;
  since: Date;
  until: Date;
  deployments: number;
  deploymentsPerDay: number;
  changeFailureRate: number;
  rollbacks: number;
  meanTimeToRecoverySeconds: number | null;
  recurringRollbacks: RecurringRollbackFigure[];
}

const DAY_MS = 86_400_000;
const DEFAULT_PERIOD_DAYS = 30;
const MAX_PERIOD_DAYS = 366;

type Row = Pick<Deployment, "id" | "tenantEnvironmentId" | "seq" | "deployedAt" | "source" | "status" | "rollbackRequestId">;

const isChange = (d: Row) => d.source === DeploymentSource.RELEASE || d.source === DeploymentSource.PROMOTION;
const isFailure = (d: Row) => isChange(d) && (d.status === DeploymentStatus.FAILED || d.status === DeploymentStatus.ROLLED_BACK);
const restores = (d: Row) => d.source === DeploymentSource.ROLLBACK || d.status === DeploymentStatus.SUCCESS;

/**
 * Delivery figures per tenant-environment over a period [since, until), from the deployment
 * history: deployments (RELEASE and PROMOTION) and their rate per day, change failure rate (of
 * those, the ones that ended FAILED or ROLLED_BACK), rollbacks, mean time to recovery (from each
 * failed deployment of the period to the next ROLLBACK or SUCCESS deployment of its
 * tenant-environment, even one after the period) and recurring rollbacks (a target, with its
 * service for SERVICE and FIELD, rolled back to more than once in the period).
 *
 * Every query reads through an index bounded by the period (deployment by tenant-environment and
 * time; the next recovery by tenant-environment, source or status, and position), so the cost
 * follows the deployments of the period, never the whole history.
 */
export class DeliveryMetricsService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
  ) {}

  async metrics(actor: Actor, filter: MetricsFilter): Promise<DeliveryMetricsFigures[]> {
    const { project } = await this.access.project(actor, filter.project);
    const until = filter.until ?? new Date();
    const since = filter.since ?? new Date(until.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
    if (since.getTime() >= until.getTime()) throw badInput(`since (${since.toISOString()}) must be before until (${until.toISOString()})`);
    if (until.getTime() - since.getTime() > MAX_PERIOD_DAYS * DAY_MS) throw badInput(`the period must be at most ${MAX_PERIOD_DAYS} days`);

    const tes = (await this.catalog.allTenantEnvironments(project.id))
      .filter((te) => (!filter.tenant || te.tenantSlug === filter.tenant) && (!filter.environment || te.environment === filter.environment))
      .sort((a, b) => a.tenantSlug.localeCompare(b.tenantSlug) || a.environment.localeCompare(b.environment));
    if (tes.length === 0) {
      if (filter.tenant && filter.environment) await this.catalog.tenantEnvironment(project, filter.tenant, filter.environment); // names what is missing
      throw notFound(
        `no tenant-environment of project "${project.slug}" matches${filter.tenant ? ` tenant "${filter.tenant}"` : ""}${filter.environment ? ` environment "${filter.environment}"` : ""}`,
      );
    }

    const rows = await this.db.manager
      .createQueryBuilder(Deployment, "d")
      .select(["d.id", "d.tenantEnvironmentId", "d.seq", "d.deployedAt", "d.source", "d.status", "d.rollbackRequestId"])
      .where("d.tenantEnvironmentId IN (:...tes)", { tes: tes.map((te) => te.id) })
      .andWhere("d.deployedAt >= :since AND d.deployedAt < :until", { since, until })
      .orderBy("d.seq", "ASC")
      .getMany();
    const requestIds = rows.filter((d) => d.source === DeploymentSource.ROLLBACK && d.rollbackRequestId).map((d) => d.rollbackRequestId!);
    const targets = new Map(
      (requestIds.length ? await this.db.manager.find(RollbackRequest, { where: { id: In(requestIds) }, select: { id: true, targetSha: true, service: true } }) : []).map((r) => [
        r.id,
        r,
      ]),
    );

    const out: DeliveryMetricsFigures[] = [];
    for (const te of tes) {
      const own = rows.filter((d) => d.tenantEnvironmentId === te.id);
      const changes = own.filter(isChange);
      const failures = own.filter(isFailure);
      const rollbacks = own.filter((d) => d.source === DeploymentSource.ROLLBACK);
      out.push({
        tenant: te.tenantSlug,
        environment: te.environment,
        since,
        until,
        deployments: changes.length,
        deploymentsPerDay: changes.length / ((until.getTime() - since.getTime()) / DAY_MS),
        changeFailureRate: changes.length ? failures.length / changes.length : 0,
        rollbacks: rollbacks.length,
        meanTimeToRecoverySeconds: await this.meanTimeToRecovery(te, own),
        recurringRollbacks: recurring(rollbacks, targets),
      });
    }
    return out;
  }

  /** Seconds from each failed deployment to the next deployment that restored service, averaged; null when none recovered. */
  private async meanTimeToRecovery(te: TenantEnvironment, rows: Row[]): Promise<number | null> {
    const recoveries: number[] = [];
    let waiting: Row[] = [];
    const recoverBy = (restore: Row) => {
      for (const f of waiting.filter((w) => w.seq < restore.seq)) recoveries.push(Math.max(0, new Date(restore.deployedAt).getTime() - new Date(f.deployedAt).getTime()) / 1000);
      waiting = waiting.filter((w) => w.seq >= restore.seq);
    };
    for (const d of rows) {
      if (restores(d)) recoverBy(d);
      if (isFailure(d)) waiting.push(d);
    }
    if (waiting.length > 0) {
      const next = await this.nextRestore(te.id, waiting[0]!.seq);
      if (next) recoverBy(next);
    }
    return recoveries.length ? recoveries.reduce((a, b) => a + b, 0) / recoveries.length : null;
  }

  /** The first ROLLBACK or SUCCESS deployment after `seq` (possibly after the period): two index lookups. */
  private async nextRestore(teId: string, seq: number): Promise<Row | null> {
    const first = (where: string, params: Record<string, unknown>) =>
      this.db.manager
        .createQueryBuilder(Deployment, "d")
        .select(["d.id", "d.tenantEnvironmentId", "d.seq", "d.deployedAt", "d.source", "d.status", "d.rollbackRequestId"])
        .where("d.tenantEnvironmentId = :teId AND d.seq > :seq", { teId, seq })
        .andWhere(where, params)
        .orderBy("d.seq", "ASC")
        .limit(1)
        .getOne();
    const [rollback, success] = await Promise.all([
      first("d.source = :source", { source: DeploymentSource.ROLLBACK }),
      first("d.status = :status", { status: DeploymentStatus.SUCCESS }),
    ]);
    if (!rollback || !success) return rollback ?? success;
    return rollback.seq < success.seq ? rollback : success;
  }
}

function recurring(rollbacks: Row[], targets: Map<string, Pick<RollbackRequest, "targetSha" | "service">>): RecurringRollbackFigure[] {
  const groups = new Map<string, RecurringRollbackFigure>();
  for (const d of rollbacks) {
    const target = d.rollbackRequestId ? targets.get(d.rollbackRequestId) : undefined;
    if (!target) continue;
    const key = `${target.service ?? ""}\u0000${target.targetSha}`;
    const at = new Date(d.deployedAt);
    const group = groups.get(key);
    if (group) {
      group.count++;
      if (at > group.lastAt) group.lastAt = at;
    } else {
      groups.set(key, { service: target.service ?? null, targetRevision: target.targetSha, count: 1, lastAt: at });
    }
  }
  return [...groups.values()].filter((g) => g.count > 1).sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime());
}
