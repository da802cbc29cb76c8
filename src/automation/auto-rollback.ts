import type { Logger } from "pino";
import { IsNull, LessThan, type EntityManager } from "typeorm";
import { AutoRollbackPolicy } from "../../entities/auto-rollback-policy.js";
import { AutoRollbackTrigger, TriggerOutcome } from "../../entities/auto-rollback-trigger.js";
import { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus, Role, RollbackMode, RollbackTrigger } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { User } from "../../entities/user.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { classifyPath } from "../git/layout.js";
import { AppError, badInput, notFound } from "../errors.js";
import { randomId } from "../lib/ids.js";
import { assertModeAllowed } from "../rollback/gates.js";
import type { RollbackInputData } from "../rollback/preparation.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { AcceptedSyncReport } from "../sync/sync-service.js";
import type { RequestOrigin } from "../rollback/guard.js";
import { AUTO_ROLLBACK_IDENTITY, automationActor, ensureSystemUser } from "../services/system-identity.js";

export const DEFAULT_WINDOW_MINUTES = 30;
export const MAX_WINDOW_MINUTES = 1440;
/** A claim still CLAIMED after this long belongs to a server that died deciding: another may take it over. */
const STALE_CLAIM_MS = 60_000;

export interface PolicyInput {
  project: string;
  environment: string;
  enabled: boolean;
  windowMinutes?: number | null;
  mode?: RollbackMode | null;
  bypassApproval?: boolean | null;
}

/** What the automatic rollback needs of the rollback service. */
export interface RollbackRequester {
  request(actor: Actor, input: RollbackInputData, idempotencyKey: string | null, origin: RequestOrigin): Promise<RollbackRequest>;
}

type Verdict = { skip: string } | { target: Deployment; services: (string | null)[] };

/** Policies are one per environment; the id names both, so a policy never saved still has a stable, resolvable id. */
export function policyId(projectId: string, environment: string): string {
  return `arp_${projectId.replace(/^prj_/, "")}.${environment}`;
}

function parsePolicyId(id: string): { projectId: string; environment: string } | null {
  const m = /^arp_([0-9a-z]+)\.([a-z0-9-]+)$/.exec(id);
  return m ? { projectId: `prj_${m[1]}`, environment: m[2]! } : null;
}

/**
 * Automatic rollback on Degraded: when an agent reports a fresh deployment Degraded, the server
 * requests the rollback to the newest earlier SUCCESS deployment itself, as the `auto-rollback`
 * identity, through the same request, approval, freeze and audit path as anyone. A claim per
 * failing deployment in the database makes it happen once across replicas; rollbacks are never
 * rolled back automatically, so it cannot loop.
 */
export class AutoRollbackService {
  private systemUser: User | null = null;

  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly rollbacks: RollbackRequester,
    private readonly audit: AuditTrail,
    private readonly logger: Logger,
  ) {}

  // ---------------------------------------------------------------- policies

  async policy(projectId: string, environment: string, tx: EntityManager = this.db.manager): Promise<AutoRollbackPolicy> {
    const saved = await tx.findOneBy(AutoRollbackPolicy, { projectId, environment });
    return (
      saved ??
      tx.create(AutoRollbackPolicy, {
        id: policyId(projectId, environment),
        projectId,
        environment,
        enabled: false,
        windowMinutes: DEFAULT_WINDOW_MINUTES,
        mode: RollbackMode.SERVICE,
        bypassApproval: false,
      })
    );
  }

  async policies(project: Project): Promise<AutoRollbackPolicy[]> {
    return Promise.all(project.environments.map((env) => this.policy(project.id, env)));
  }

  async find(actor: Actor, id: string): Promise<AutoRollbackPolicy | null> {
    const ref = parsePolicyId(id);
    const access = ref ? await this.access.projectById(actor, ref.projectId) : null;
    if (!ref || !access || !access.project.environments.includes(ref.environment)) return null;
    return this.policy(ref.projectId, ref.environment);
  }

  async setPolicy(actor: Actor, input: PolicyInput): Promise<AutoRollbackPolicy> {
    const { project, organization } = await this.access.project(actor, input.project, Role.ADMIN);
    if (!project.environments.includes(input.environment)) throw notFound(`environment "${input.environment}" not found in project "${project.slug}"`);
    const windowMinutes = input.windowMinutes ?? DEFAULT_WINDOW_MINUTES;
    if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > MAX_WINDOW_MINUTES) {
      throw badInput(`windowMinutes must be a whole number from 1 to ${MAX_WINDOW_MINUTES}, got ${windowMinutes}`);
    }
    const mode = input.mode ?? RollbackMode.SERVICE;
    if (mode === RollbackMode.FIELD) throw badInput("mode FIELD cannot be automatic (a health report names no field): use SERVICE or FULL");
    // The gates apply at request time too; refusing here tells the admin now rather than at the next incident.
    if (input.enabled) assertModeAllowed(organization, mode);
    const bypassApproval = input.bypassApproval ?? false;
    return this.db.transaction(async (tx) => {
      const policy = await this.policy(project.id, input.environment, tx);
      const before = { enabled: policy.enabled, windowMinutes: policy.windowMinutes, mode: policy.mode, bypassApproval: policy.bypassApproval };
      const after = { enabled: input.enabled, windowMinutes, mode, bypassApproval };
      // An upsert, so two admins saving the first policy of an environment at once do not collide.
      await tx.upsert(AutoRollbackPolicy, tx.merge(AutoRollbackPolicy, policy, after), ["projectId", "environment"]);
      await this.audit.append(tx, {
        projectId: project.id,
        actor,
        action: "autorollback.policy_changed",
        subjectId: input.environment,
        details: { environment: input.environment, before, after },
      });
      return policy;
    });
  }

  // ---------------------------------------------------------------- reports

  /** Reacts to an accepted sync report. Never throws: a report is never refused for what this does with it. */
  async onSyncReport(report: AcceptedSyncReport): Promise<void> {
    const { deployment } = report;
    if (!report.degraded || !deployment) return;
    try {
      const policy = await this.policy(report.project.id, report.te.environment);
      if (!policy.enabled) return;
      const claimId = await this.claim(deployment);
      if (!claimId) return; // another server (or an earlier report) has it
      await this.act(report, deployment, policy, claimId);
    } catch (err) {
      this.logger.error({ err, deploymentId: deployment.id }, "automatic rollback failed");
    }
  }

  private async act(report: AcceptedSyncReport, deployment: Deployment, policy: AutoRollbackPolicy, claimId: string): Promise<void> {
    const { project, te } = report;
    const verdict = await this.decide(deployment, policy);
    const base = { tenant: te.tenantSlug, environment: te.environment, revision: deployment.revision, health: report.health, state: report.state };
    if ("skip" in verdict) {
      this.logger.info({ deploymentId: deployment.id, reason: verdict.skip }, "automatic rollback skipped");
      await this.finish(deployment, claimId, TriggerOutcome.SKIPPED, verdict.skip, [], { action: "autorollback.skipped", details: { ...base, reason: verdict.skip } });
      return;
    }
    const actor = automationActor(await this.identity());
    const short = deployment.revision.slice(0, 7);
    const minutes = Math.max(0, Math.floor((Date.now() - new Date(deployment.deployedAt).getTime()) / 60_000));
    const justification =
      `Automatic rollback: the agent reported ${report.health} for revision ${short} ("${deployment.summary}") ${minutes} min after it was deployed; ` +
      `auto-rollback policy of ${te.environment}: ${policy.mode}, ${policy.windowMinutes}-minute window`;
    await this.db.transaction((tx) =>
      this.audit.append(tx, {
        projectId: project.id,
        actor,
        action: "autorollback.triggered",
        subjectId: deployment.id,
        details: {
          ...base,
          mode: policy.mode,
          windowMinutes: policy.windowMinutes,
          bypassApproval: policy.bypassApproval,
          targetSha: verdict.target.revision,
          services: verdict.services,
        },
      }),
    );
    const origin: RequestOrigin = { trigger: RollbackTrigger.AUTOMATIC, triggeredByDeploymentId: deployment.id, bypassApproval: policy.bypassApproval };
    const requestIds: string[] = [];
    const refusals: string[] = [];
    for (const service of verdict.services) {
      // A server that died after requesting left its request: take it, do not ask twice.
      const earlier = await this.db.manager.findOneBy(RollbackRequest, { triggeredByDeploymentId: deployment.id, service: service ?? IsNull() });
      if (earlier) {
        requestIds.push(earlier.id);
        continue;
      }
      const input = { project: project.slug, tenant: te.tenantSlug, environment: te.environment, mode: policy.mode, targetSha: verdict.target.revision, service, justification };
      try {
        const request = await this.rollbacks.request(actor, input, null, origin);
        requestIds.push(request.id);
        this.logger.warn({ requestId: request.id, state: request.state, deploymentId: deployment.id, rolledBackService: service }, "automatic rollback requested");
      } catch (err) {
        const requestId = err instanceof AppError ? (err.extensions.requestId as string | undefined) : undefined;
        if (requestId) {
          requestIds.push(requestId); // created, then failed to execute: its own events say why
          continue;
        }
        if (!(err instanceof AppError)) throw err;
        const reason = `${service ? `${service}: ` : ""}${err.message}`;
        refusals.push(reason);
        await this.db.transaction((tx) =>
          this.audit.append(tx, {
            projectId: project.id,
            actor,
            action: "autorollback.refused",
            subjectId: deployment.id,
            details: { ...base, service, code: err.code, reason: err.message },
          }),
        );
      }
    }
    await this.finish(deployment, claimId, requestIds.length > 0 ? TriggerOutcome.REQUESTED : TriggerOutcome.SKIPPED, refusals.join("; ") || null, requestIds);
  }

  /** Whether and how to roll back: the rules that keep automatic rollback from looping, guessing, or undoing newer work. */
  private async decide(deployment: Deployment, policy: AutoRollbackPolicy): Promise<Verdict> {
    const short = deployment.revision.slice(0, 7);
    if (deployment.source === DeploymentSource.ROLLBACK) return { skip: `deployment ${short} is itself a rollback: automatic rollback never rolls back a rollback` };
    const minutes = (Date.now() - new Date(deployment.deployedAt).getTime()) / 60_000;
    if (minutes > policy.windowMinutes) {
      return { skip: `deployment ${short} was ${Math.floor(minutes)} minutes old at the report, outside the ${policy.windowMinutes}-minute window` };
    }
    const te = await this.db.manager.findOneByOrFail(TenantEnvironment, { id: deployment.tenantEnvironmentId });
    if (te.lastSeq > deployment.seq) {
      const newer = await this.db.manager.findOneByOrFail(Deployment, { tenantEnvironmentId: te.id, seq: te.lastSeq });
      return { skip: `a newer deployment ${newer.revision.slice(0, 7)} (${newer.source}) replaced ${short} before the report` };
    }
    const target = await this.db.manager.findOne(Deployment, {
      where: { tenantEnvironmentId: te.id, seq: LessThan(deployment.seq), status: DeploymentStatus.SUCCESS },
      order: { seq: "DESC" },
    });
    if (!target) return { skip: `no deployment before ${short} has status SUCCESS: there is no known-good revision to roll back to` };
    if (policy.mode === RollbackMode.FULL) return { target, services: [null] };
    const services = [...new Set(deployment.files.map((f) => classifyPath(f)?.service).filter((s): s is string => Boolean(s)))].sort();
    if (services.length === 0) return { skip: `deployment ${short} changed no service (only environment files): SERVICE mode has nothing to roll back, FULL would` };
    return { target, services };
  }

  /** Claims the failing deployment for this server; null when another server (or an earlier report) has it. */
  private async claim(deployment: Deployment): Promise<string | null> {
    const claimId = randomId(16);
    const now = new Date();
    const won = await this.db.transaction(async (tx) => {
      await tx
        .createQueryBuilder()
        .insert()
        .into(AutoRollbackTrigger)
        .values({ deploymentId: deployment.id, projectId: deployment.projectId, claimId, claimedAt: now, outcome: TriggerOutcome.CLAIMED, reason: null, requestIds: [] })
        .orIgnore()
        .updateEntity(false)
        .execute();
      const taken = await tx
        .createQueryBuilder()
        .update(AutoRollbackTrigger)
        .set({ claimId, claimedAt: now })
        .where([
          { deploymentId: deployment.id, claimId },
          { deploymentId: deployment.id, outcome: TriggerOutcome.CLAIMED, claimedAt: LessThan(new Date(now.getTime() - STALE_CLAIM_MS)) },
        ])
        .execute();
      return (taken.affected ?? 0) > 0;
    });
    return won ? claimId : null;
  }

  private async finish(
    deployment: Deployment,
    claimId: string,
    outcome: TriggerOutcome,
    reason: string | null,
    requestIds: string[],
    event?: { action: string; details: Record<string, unknown> },
  ): Promise<void> {
    const actor = automationActor(await this.identity());
    await this.db.transaction(async (tx) => {
      await tx.update(AutoRollbackTrigger, { deploymentId: deployment.id, claimId }, { outcome, reason, requestIds });
      if (event) await this.audit.append(tx, { projectId: deployment.projectId, actor, action: event.action, subjectId: deployment.id, details: event.details });
    });
  }

  private async identity(): Promise<User> {
    this.systemUser ??= await this.db.transaction((tx) => ensureSystemUser(tx, AUTO_ROLLBACK_IDENTITY));
    return this.systemUser;
  }
}
