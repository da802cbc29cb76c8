import { Deployment } from "../../entities/deployment.js";
import { AgentState, DeploymentStatus, Role, SyncState } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import { TenantEnvironment, type DriftRecord } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { badInput, forbidden, notFound, unauthenticated } from "../errors.js";
import type { GitStore } from "../git/git-store.js";
import type { DeploymentService } from "../history/deployments.js";
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
}

const HEALTHY = new Set(["healthy", "ok"]);
const DEGRADED = new Set(["degraded", "unhealthy", "failed", "error"]);
/** How far back a report's revision is matched to a deployment of the tenant-environment. */
const MATCH_WINDOW = 200;

/**
 * What the cluster agents report: the revision they applied, sync state, health and drift.
 * Deployment statuses follow the reports: the reported deployment becomes SUCCESS when SYNCED
 * and healthy (and the PENDING ones it superseded with it), FAILED when degraded.
 */
export class SyncService {
  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentService,
    private readonly audit: AuditTrail,
    private readonly events: Events,
    private readonly unreachableAfterSeconds: number,
  ) {}

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
    };
  }

  async report(actor: Actor | null, input: SyncReport): Promise<SyncStatusView> {
    if (!actor) throw unauthenticated();
    const project = await this.projectFor(actor, input.project);
    const te = await this.catalog.tenantEnvironment(project, input.tenant, input.environment);
    const repo = await this.git.open(project.slug);
    await repo.refresh();
    const revision = await repo.resolveCommit(input.revision.trim());
    if (!revision) throw badInput(`revision "${input.revision}" is not a commit of project "${project.slug}"`);
    const drift = (input.drift ?? []).map((d) => ({ kind: d.kind, name: d.name, field: d.field ?? null, desired: d.desired ?? null, actual: d.actual ?? null }));
    const health = input.health?.trim() || null;
    const deployment = await this.deploymentAt(te, revision, repo);

    const { updated, changedDeployments } = await this.db.transaction(async (tx) => {
      const now = new Date();
      await tx.update(TenantEnvironment, { id: te.id }, { syncRevision: revision, syncState: input.state, syncHealth: health, lastReportAt: now, drift: drift as never });
      let changed: Deployment[] = [];
      if (deployment && input.state === SyncState.SYNCED) {
        const degraded = health !== null && DEGRADED.has(health.toLowerCase());
        const healthy = health === null || HEALTHY.has(health.toLowerCase());
        if (degraded && deployment.status !== DeploymentStatus.ROLLED_BACK) {
          changed = await this.deployments.setStatus(tx, [deployment], DeploymentStatus.FAILED);
        } else if (healthy) {
          // The cluster converged on this deployment: it and the PENDING ones it superseded have rolled out.
          const superseded = await tx
            .createQueryBuilder(Deployment, "d")
            .where("d.tenantEnvironmentId = :te", { te: te.id })
            .andWhere("d.seq <= :seq", { seq: deployment.seq })
            .andWhere("(d.status = :pending OR d.id = :id)", { pending: DeploymentStatus.PENDING, id: deployment.id })
            .andWhere("d.status <> :rolledBack", { rolledBack: DeploymentStatus.ROLLED_BACK })
            .getMany();
          changed = await this.deployments.setStatus(tx, superseded, DeploymentStatus.SUCCESS);
        }
      }
      if (changed.length > 0 || te.syncState !== input.state || te.syncRevision !== revision) {
        await this.audit.append(tx, {
          projectId: project.id,
          actor,
          action: "sync.reported",
          subjectId: te.id,
          details: { tenant: te.tenantSlug, environment: te.environment, revision, state: input.state, health, drift: drift.length, deployments: changed.map((d) => ({ revision: d.revision, status: d.status })) },
        });
      }
      return { updated: await tx.findOneByOrFail(TenantEnvironment, { id: te.id }), changedDeployments: changed };
    });
    for (const d of changedDeployments) {
      const full = await this.deployments.byId(d.id);
      if (full) this.events.deploymentRecorded(te.tenantSlug, te.environment, full);
    }
    const view = this.status(updated);
    this.events.syncStatusChanged(this.snapshot(project.id, view));
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

  /** Tenant-environments whose agent stopped reporting (for dashboards and logs). */
  async unreachable(now = new Date()): Promise<TenantEnvironment[]> {
    const cutoff = new Date(now.getTime() - this.unreachableAfterSeconds * 1000);
    return this.db.manager.createQueryBuilder(TenantEnvironment, "te").where("te.lastReportAt < :cutoff", { cutoff }).getMany();
  }
}
