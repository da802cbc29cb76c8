import { IsNull, LessThan } from "typeorm";
import { Deployment } from "../../entities/deployment.js";
import { AgentState, DeploymentStatus, Role, SyncState } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import { TenantEnvironment, type DriftRecord } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { badInput, forbidden, notFound, unauthenticated } from "../errors.js";
import type { GitStore } from "../git/git-store.js";
import type { DeploymentQueries } from "../history/queries.js";
import type { DeploymentRecorder } from "../history/recorder.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { Catalog } from "../services/catalog.js";
import type { Events, SyncStatusSnapshot } from "../services/events.js";

export interface SyncReport {
  project: string;
  tenant: string;
  environment: string;
  revision: string;
  state: SyncState;
  health?: string | null;
  drift?: DriftRecord[] | null;
}

export interface SyncStatusView {
  revision: string | null;
  state: SyncState;
  agent: AgentState;
  lastReportAt: Date | null;
  health: string | null;
  drift: Required<DriftRecord>[];
  tenant: string;
  environment: string;
  tenantEnvironmentId: string;
}

/** A report as recorded, for what reacts to reports (automatic rollback). */
export interface AcceptedSyncReport {
  project: Project;
  te: TenantEnvironment;
  /** The newest deployment of the tenant-environment that the reported revision contains. */
  deployment: Deployment | null;
  revision: string;
  state: SyncState;
  health: string | null;
  /** Health says the workload is failing (Degraded, Unhealthy, Failed, Error), whatever the sync state. */
  degraded: boolean;
}

export type SyncReportListener = (report: AcceptedSyncReport) => Promise<void>;

const HEALTHY = new Set(["healthy", "ok"]);
const DEGRADED = new Set(["degraded", "unhealthy", "failed", "error"]);
/** How far back a report's revision is matched to a deployment of the tenant-environment. */
const MATCH_WINDOW = 200;
const MAX_DRIFT_ITEMS = 1000;

/**
 * What the cluster agents report: the revision they applied, sync state, health and drift.
 *
 * Deployment statuses follow the reports. A report names a revision of the repository (usually
 * its head, as Argo CD reports it); it applies to the newest deployment of the tenant-environment
 * that this revision contains ("the reported deployment"). Only SYNCED reports move statuses:
 *  - SYNCED and healthy (health "Healthy"/"ok", or no health given): the reported deployment
 *    becomes SUCCESS, and so does every older deployment of the same tenant-environment that is
 *    still PENDING: the cluster converged on a state that includes them, so they rolled out
 *    (superseded, never separately confirmed). ROLLED_BACK and FAILED older deployments keep
 *    their status. A deployment that was FAILED becomes SUCCESS when a later report finds the
 *    same revision healthy (the rollout recovered).
 *  - SYNCED and degraded (health "Degraded"/"Unhealthy"/"Failed"/"Error"): the reported deployment
 *    becomes FAILED; older PENDING ones stay PENDING (which of them broke is unknown).
 *  - Any other health (e.g. "Progressing"), OUT_OF_SYNC, PENDING or UNKNOWN: statuses stay as they
 *    are; the report is recorded and shown in tenantEnvironment.sync (drift items included).
 * Deployments newer than the reported one stay PENDING until a report contains them.
 */
export class SyncService {
  private readonly listeners: SyncReportListener[] = [];

  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentQueries,
    private readonly recorder: DeploymentRecorder,
    private readonly audit: AuditTrail,
    private readonly events: Events,
    private readonly unreachableAfterSeconds: number,
  ) {}

  /** Runs `listener` after every accepted report; listeners handle their own failures (a report is never refused for them). */
  onReport(listener: SyncReportListener): void {
    this.listeners.push(listener);
  }

  status(te: TenantEnvironment, now = new Date()): SyncStatusView {
    let agent = AgentState.NEVER_SEEN;
    if (te.lastReportAt) {
      const age = (now.getTime() - new Date(te.lastReportAt).getTime()) / 1000;
      agent = age > this.unreachableAfterSeconds ? AgentState.UNREACHABLE : AgentState.CONNECTED;
    }
    return {
      revision: te.syncRevision,
      state: te.lastReportAt ? te.syncState : SyncState.UNKNOWN,
      agent,
      lastReportAt: te.lastReportAt,
      health: te.syncHealth,
      drift: (te.drift ?? []).map((d) => ({ kind: d.kind, name: d.name, field: d.field ?? null, desired: d.desired ?? null, actual: d.actual ?? null })),
      tenant: te.tenantSlug,
      environment: te.environment,
      tenantEnvironmentId: te.id,
    };
  }

  /**
   * The status as a dashboard should read it: a SYNCED report of a revision that does not yet
   * contain the tenant-environment's newest deployment means the cluster has catching up to do,
   * so it shows PENDING until the agent reports the new revision.
   */
  async current(te: TenantEnvironment): Promise<SyncStatusView> {
    const view = this.status(te);
    if (view.state !== SyncState.SYNCED || !te.currentRevision || !te.syncRevision || te.currentRevision === te.syncRevision) return view;
    const project = await this.catalog.project(te.projectId);
    const repo = await this.git.open(project.slug);
    return (await repo.isAncestor(te.currentRevision, te.syncRevision)) ? view : { ...view, state: SyncState.PENDING };
  }

  async report(actor: Actor | null, input: SyncReport): Promise<SyncStatusView> {
    if (!actor) throw unauthenticated();
    const project = await this.projectFor(actor, input.project);
    const te = await this.catalog.tenantEnvironment(project, input.tenant, input.environment);
    const repo = await this.git.open(project.slug);
    await repo.refresh();
    const revision = await repo.resolveCommit(input.revision.trim());
    const head = await repo.head();
    // A commit of the project: one reachable from its branch, not just any object in the store.
    if (!revision || !head || !(await repo.isAncestor(revision, head))) {
      throw badInput(`revision "${input.revision}" is not a commit of project "${project.slug}"`);
    }
    if ((input.drift?.length ?? 0) > MAX_DRIFT_ITEMS) throw badInput(`at most ${MAX_DRIFT_ITEMS} drift items per report`);
    const drift = (input.drift ?? []).map((d) => ({ kind: d.kind, name: d.name, field: d.field ?? null, desired: d.desired ?? null, actual: d.actual ?? null }));
    const health = input.health?.trim() || null;
    const deployment = await this.deploymentAt(te, revision, repo);

    const { updated, changedDeployments } = await this.db.transaction(async (tx) => {
      const now = new Date();
      await tx.update(
        TenantEnvironment,
        { id: te.id },
        { syncRevision: revision, syncState: input.state, syncHealth: health, lastReportAt: now, drift: drift as never, unreachableAnnouncedAt: null },
      );
      let changed: Deployment[] = [];
      if (deployment && input.state === SyncState.SYNCED) {
        const degraded = health !== null && DEGRADED.has(health.toLowerCase());
        const healthy = health === null || HEALTHY.has(health.toLowerCase());
        if (degraded && deployment.status !== DeploymentStatus.ROLLED_BACK) {
          changed = await this.recorder.setStatus(tx, [deployment], DeploymentStatus.FAILED);
        } else if (healthy) {
          // The cluster converged on this deployment: it and the PENDING ones it superseded have rolled out.
          const superseded = await tx
            .createQueryBuilder(Deployment, "d")
            .where("d.tenantEnvironmentId = :te", { te: te.id })
            .andWhere("d.seq <= :seq", { seq: deployment.seq })
            .andWhere("(d.status = :pending OR d.id = :id)", { pending: DeploymentStatus.PENDING, id: deployment.id })
            .andWhere("d.status <> :rolledBack", { rolledBack: DeploymentStatus.ROLLED_BACK })
            .getMany();
          changed = await this.recorder.setStatus(tx, superseded, DeploymentStatus.SUCCESS);
        }
      }
      if (changed.length > 0 || te.syncState !== input.state || te.syncRevision !== revision) {
        await this.audit.append(tx, {
          projectId: project.id,
          actor,
          action: "sync.reported",
          subjectId: te.id,
          details: {
            tenant: te.tenantSlug,
            environment: te.environment,
            revision,
            state: input.state,
            health,
            drift: drift.length,
            deployments: changed.map((d) => ({ revision: d.revision, status: d.status })),
          },
        });
      }
      const updated = await tx.findOneByOrFail(TenantEnvironment, { id: te.id });
      const events = this.events.inTransaction(tx);
      for (const d of changed) events.deploymentRecorded(te.tenantSlug, te.environment, d);
      events.syncStatusChanged(this.snapshot(project.id, this.status(updated)));
      return { updated, changedDeployments: changed };
    });
    for (const d of changedDeployments) {
      const full = await this.deployments.byId(d.id);
      if (full) this.events.deploymentRecorded(te.tenantSlug, te.environment, full);
    }
    const view = this.status(updated);
    this.events.syncStatusChanged(this.snapshot(project.id, view));
    const degraded = health !== null && DEGRADED.has(health.toLowerCase());
    for (const listener of this.listeners) await listener({ project, te: updated, deployment, revision, state: input.state, health, degraded });
    return view;
  }

  snapshot(projectId: string, view: SyncStatusView): SyncStatusSnapshot {
    return { projectId, ...view, lastReportAt: view.lastReportAt ? new Date(view.lastReportAt).toISOString() : null };
  }

  /** The newest deployment of the tenant-environment that the reported revision contains. */
  private async deploymentAt(te: TenantEnvironment, revision: string, repo: Awaited<ReturnType<GitStore["open"]>>): Promise<Deployment | null> {
    const exact = await this.db.manager.findOneBy(Deployment, { tenantEnvironmentId: te.id, revision });
    if (exact) return exact;
    const recent = await this.db.manager.find(Deployment, { where: { tenantEnvironmentId: te.id }, order: { seq: "DESC" }, take: MATCH_WINDOW });
    for (const d of recent) if (await repo.isAncestor(d.revision, revision)) return d;
    return null;
  }

  /** Agents report for their own project; users need ADMIN (manual reports while debugging an agent). */
  private async projectFor(actor: Actor, slug: string): Promise<Project> {
    if (actor.kind === "agent") {
      const project = await this.db.manager.findOneBy(Project, { slug });
      if (!project || project.id !== actor.projectId) throw notFound(`project "${slug}" not found`);
      return project;
    }
    const access = await this.access.project(actor, slug, Role.VIEWER);
    if (access.role !== Role.ADMIN) throw forbidden(`reportSyncStatus is for cluster agents: use an agent token (npm run cli -- token create --agent --project ${slug})`);
    return access.project;
  }

  /**
   * Publishes one syncStatusChanged event for every tenant-environment whose agent turned
   * UNREACHABLE and was not announced yet (run periodically by every replica's maintenance loop).
   * The announcement is claimed in the database first, so with several replicas exactly one of
   * them publishes it; the next report clears the claim.
   */
  async announceUnreachable(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.unreachableAfterSeconds * 1000);
    const silent = await this.db.manager.createQueryBuilder(TenantEnvironment, "te").where("te.lastReportAt < :cutoff AND te.unreachableAnnouncedAt IS NULL", { cutoff }).getMany();
    let published = 0;
    for (const te of silent) {
      const view = this.status(te, now);
      if (view.agent !== AgentState.UNREACHABLE) continue;
      const claimed = await this.db.transaction(async (tx) => {
        const result = await tx
          .createQueryBuilder()
          .update(TenantEnvironment)
          .set({ unreachableAnnouncedAt: now })
          .where({ id: te.id, unreachableAnnouncedAt: IsNull(), lastReportAt: LessThan(cutoff) })
          .execute();
        if (result.affected) this.events.inTransaction(tx).syncStatusChanged(this.snapshot(te.projectId, view));
        return result;
      });
      if (!claimed.affected) continue; // another replica announced it, or the agent just reported
      this.events.syncStatusChanged(this.snapshot(te.projectId, view));
      published++;
    }
    return published;
  }
}
