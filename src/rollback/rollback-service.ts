import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { Logger } from "pino";
import type { Deployment } from "../../entities/deployment.js";
import { BlastRadius, DeploymentSource, DeploymentStatus, ReviewDecision, Role, RollbackMode, RollbackRequestState, roleAtLeast } from "../../entities/enums.js";
import { Review, RollbackNote, RollbackRequest } from "../../entities/rollback-request.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { Database } from "../db/database.js";
import type { ComparisonResult, FileChangeSet } from "../diff/comparison.js";
import { AppError, badInput, conflict, forbidden, Messages, notFound } from "../errors.js";
import { GitConflictError, NothingToCommitError, type GitStore, type ProjectRepository } from "../git/git-store.js";
import { parseTrailers, rollbackMessage } from "../history/commit-message.js";
import type { DeploymentService } from "../history/deployments.js";
import { canonicalJson } from "../services/audit.js";
import { newId, sha256 } from "../lib/ids.js";
import { decodeCursor, encodeCursor, pageSize, type Page } from "../lib/paging.js";
import type { AccessService, ProjectAccess } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { Catalog } from "../services/catalog.js";
import type { Events } from "../services/events.js";
import type { FieldSelector } from "../yaml/fields.js";
import { assertModeAllowed } from "./gates.js";
import { dirOf, findConflicts, parseFieldSelection, planRollback, type RollbackPlan } from "./planner.js";
import { undoneBy } from "./undone.js";

export interface RollbackInputData {
  project: string;
  tenant: string;
  environment: string;
  mode: RollbackMode;
  targetSha?: string | null;
  service?: string | null;
  fields?: string[] | null;
  justification?: string | null;
}

export interface PreviewResult extends ComparisonResult {
  mode: RollbackMode;
  targetSha: string;
  baseSha: string;
  headSha: string;
  blastRadius: BlastRadius;
  approvalRequired: boolean;
  requiredApprovals: number;
  breakGlassActive: boolean;
  affectedServices: string[];
}

export interface RequestFilter {
  project: string;
  tenant?: string | null;
  environment?: string | null;
  state?: RollbackRequestState | null;
  first?: number | null;
  after?: string | null;
}

/** Points where execution can be paused, so tests can kill a server mid-execution. */
export type ExecutionPausePoint = "before-commit" | "after-commit";

export interface RollbackServiceOptions {
  logger: Logger;
  /** Identifies this server process in `executorId`. */
  executorId?: string;
  pause?: { at: ExecutionPausePoint; ms: number } | null;
}

const BLAST_RADIUS: Record<RollbackMode, BlastRadius> = {
  [RollbackMode.FULL]: BlastRadius.HIGH,
  [RollbackMode.SERVICE]: BlastRadius.MEDIUM,
  [RollbackMode.FIELD]: BlastRadius.MINIMAL,
};

const MAX_EXECUTION_ATTEMPTS = 5;
const REQUEST_RELATIONS = { requestedBy: true, reviews: { reviewer: true }, notes: { author: true } } as const;

interface Prepared {
  access: ProjectAccess;
  te: TenantEnvironment;
  target: Deployment;
  fields: FieldSelector[];
  service: string | null;
  repo: ProjectRepository;
  head: string;
}

/**
 * The rollback rules: gates, previews, requests, the approval state machine, execution against
 * the newest head with conflict detection, and crash recovery. Every mutation of a rollback
 * request goes through here.
 */
export class RollbackService {
  readonly executorId: string;

  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentService,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditTrail,
    private readonly events: Events,
    private readonly options: RollbackServiceOptions,
  ) {
    this.executorId = options.executorId ?? `srv-${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  // ---------------------------------------------------------------- preview

  async preview(actor: Actor, input: RollbackInputData): Promise<PreviewResult> {
    const prepared = await this.prepare(actor, input, Role.VIEWER);
    const plan = await this.plan(prepared, input.mode);
    const decision = await this.approvals.decide(prepared.access.organization, prepared.access.project, prepared.te.environment, prepared.access.user);
    return {
      ...plan.comparison,
      mode: input.mode,
      targetSha: prepared.target.revision,
      baseSha: prepared.te.currentRevision ?? prepared.head,
      headSha: prepared.head,
      blastRadius: BLAST_RADIUS[input.mode],
      approvalRequired: decision.approvalRequired,
      requiredApprovals: decision.requiredApprovals,
      breakGlassActive: decision.breakGlassSession !== null,
      affectedServices: plan.affectedServices,
    };
  }

  private async prepare(actor: Actor, input: RollbackInputData, minimum: Role): Promise<Prepared> {
    this.access.requireUser(actor);
    if (!input.targetSha || input.targetSha.trim() === "") throw badInput(Messages.targetShaRequired);
    const access = await this.access.project(actor, input.project, minimum);
    const te = await this.catalog.tenantEnvironment(access.project, input.tenant, input.environment);
    assertModeAllowed(access.organization, input.mode);
    let service: string | null = null;
    let fields: FieldSelector[] = [];
    if (input.mode === RollbackMode.FULL) {
      if (input.service || (input.fields && input.fields.length > 0)) throw badInput("service and fields apply to SERVICE and FIELD modes only; FULL reverts the whole tenant-environment");
    } else {
      service = input.service?.trim() || null;
      if (!service) throw badInput(`service is required for ${input.mode} mode`);
      if (input.mode === RollbackMode.FIELD) fields = parseFieldSelection(input.fields);
      else if (input.fields && input.fields.length > 0) throw badInput("fields apply to FIELD mode only; SERVICE reverts the whole service");
    }
    const target = await this.deployments.findByRevision(te, input.targetSha);
    if (!target) {
      throw badInput(`Invalid target revision: "${input.targetSha.trim()}" is not a deployment of tenant/${te.tenantSlug} env/${te.environment}`, {
        targetSha: input.targetSha,
      });
    }
    const repo = await this.git.open(access.project.slug);
    await repo.refresh();
    const head = await repo.head();
    if (!head) throw badInput(`project "${access.project.slug}" has no commits yet`);
    return { access, te, target, fields, service, repo, head };
  }

  private plan(p: Prepared, mode: RollbackMode, head = p.head): Promise<RollbackPlan> {
    return planRollback({
      repo: p.repo,
      tenant: p.te.tenantSlug,
      environment: p.te.environment,
      mode,
      head,
      target: p.target.revision,
      service: p.service,
      fields: p.fields,
    });
  }

  // ---------------------------------------------------------------- request

  async request(actor: Actor, input: RollbackInputData, idempotencyKey?: string | null): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const key = idempotencyKey?.trim() || null;
    if (key !== null && key.length > 200) throw badInput("idempotencyKey must be at most 200 characters");
    const fingerprint = fingerprintOf(input);
    if (key) {
      const existing = await this.db.manager.findOneBy(RollbackRequest, { requestedById: user.id, idempotencyKey: key });
      if (existing) return this.replay(existing, fingerprint, key);
    }

    const justification = input.justification?.trim() ?? "";
    const prepared = await this.prepare(actor, input, Role.DEPLOYER);
    if (justification === "") throw badInput("justification is required: explain why the rollback is needed");
    const plan = await this.plan(prepared, input.mode);
    if (plan.writes.length === 0) {
      const scope = input.mode === RollbackMode.FULL ? `${dirOf(prepared.te.tenantSlug, prepared.te.environment)}/` : `service "${prepared.service}"`;
      throw badInput(`nothing to roll back: ${scope} already matches revision ${prepared.target.revision.slice(0, 7)}`);
    }
    const { project, organization } = prepared.access;
    const decision = await this.approvals.decide(organization, project, prepared.te.environment, user);
    const session = decision.breakGlassSession;
    const bypass = decision.approvalRequired && session !== null;
    const state = decision.approvalRequired && !bypass ? RollbackRequestState.PENDING : RollbackRequestState.APPROVED;

    let request: RollbackRequest;
    try {
      request = await this.db.transaction(async (tx) => {
        const row = tx.create(RollbackRequest, {
          id: newId("RollbackRequest"),
          state,
          mode: input.mode,
          projectId: project.id,
          projectSlug: project.slug,
          tenantEnvironmentId: prepared.te.id,
          tenant: prepared.te.tenantSlug,
          environment: prepared.te.environment,
          targetSha: prepared.target.revision,
          baseSha: prepared.te.currentRevision ?? prepared.head,
          service: prepared.service,
          selectedFields: prepared.fields.map((f) => f.raw),
          affectedServices: plan.affectedServices,
          justification,
          requestedById: user.id,
          approvals: 0,
          requiredApprovals: decision.requiredApprovals,
          breakGlass: session !== null,
          breakGlassSessionId: session?.id ?? null,
          commitSha: null,
          commitMessage: null,
          error: null,
          errorCode: null,
          idempotencyKey: key,
          inputFingerprint: fingerprint,
          executionAttempts: 0,
          executionStartedAt: null,
          executorId: null,
        });
        await tx.insert(RollbackRequest, row);
        await this.audit.append(tx, {
          projectId: project.id,
          actor,
          action: "rollback.requested",
          subjectId: row.id,
          breakGlass: row.breakGlass,
          details: {
            mode: row.mode,
            tenant: row.tenant,
            environment: row.environment,
            targetSha: row.targetSha,
            baseSha: row.baseSha,
            service: row.service,
            fields: row.selectedFields,
            justification,
            approvalRequired: decision.approvalRequired,
            requiredApprovals: decision.requiredApprovals,
            ...(session ? { breakGlassSessionId: session.id } : {}),
          },
        });
        if (bypass) {
          await this.audit.append(tx, {
            projectId: project.id,
            actor,
            action: "breakglass.used",
            subjectId: row.id,
            breakGlass: true,
            details: { breakGlassSessionId: session!.id, bypassed: "approval", requiredApprovals: decision.requiredApprovals },
          });
        }
        return row;
      });
    } catch (err) {
      // Two calls with the same idempotency key raced: the other one created it.
      if (key && isUniqueViolation(err)) {
        const existing = await this.db.manager.findOneBy(RollbackRequest, { requestedById: user.id, idempotencyKey: key });
        if (existing) return this.replay(existing, fingerprint, key);
      }
      throw err;
    }
    const created = await this.load(request.id);
    this.events.rollbackRequestUpdated(created);
    // Executing at once: the plan just made is still good if the head has not moved since.
    if (state === RollbackRequestState.APPROVED) return this.execute(created.id, actor, "request", { request: created, plan });
    return created;
  }

  private async replay(existing: RollbackRequest, fingerprint: string, key: string): Promise<RollbackRequest> {
    if (existing.inputFingerprint !== fingerprint) {
      throw badInput(`idempotency key "${key}" was already used for rollback request ${existing.id} with a different input`, { requestId: existing.id });
    }
    return this.load(existing.id);
  }

  // ---------------------------------------------------------------- review, retry, notes

  async review(actor: Actor, id: string, decision: ReviewDecision, comment?: string | null): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.visible(actor, id);
    const access = await this.access.project(actor, found.projectSlug, Role.APPROVER);
    const session = await this.approvals.activeSession(access.project.id, user.id);
    const policy = await this.approvals.policy(access.project.id, found.environment);
    const outcome = await this.db.transaction(async (tx) => {
      const request = await this.lockRequest(tx, id);
      if (request.state !== RollbackRequestState.PENDING) throw badInput(Messages.notPendingApproval, { state: request.state });
      if (request.requestedById === user.id && !policy.allowSelfApproval) throw forbidden(Messages.selfReview);
      if (await tx.findOneBy(Review, { requestId: id, reviewerId: user.id })) throw conflict(Messages.alreadyReviewed);
      await tx.insert(Review, {
        id: newId("Review"),
        requestId: id,
        reviewerId: user.id,
        decision,
        comment: comment?.trim() || null,
        createdAt: new Date(),
      });
      const approvals = await tx.countBy(Review, { requestId: id, decision: ReviewDecision.APPROVE });
      let state: RollbackRequestState = RollbackRequestState.PENDING;
      if (decision === ReviewDecision.REJECT) state = RollbackRequestState.REJECTED;
      else if (approvals >= request.requiredApprovals) state = RollbackRequestState.APPROVED;
      await tx.update(RollbackRequest, { id }, { state, approvals, updatedAt: new Date() });
      await this.audit.append(tx, {
        projectId: request.projectId,
        actor,
        action: "rollback.reviewed",
        subjectId: id,
        breakGlass: session !== null,
        details: {
          decision,
          comment: comment?.trim() || null,
          approvals,
          requiredApprovals: request.requiredApprovals,
          state,
          ...(session ? { breakGlassSessionId: session.id } : {}),
        },
      });
      if (state !== RollbackRequestState.PENDING) {
        await this.audit.append(tx, {
          projectId: request.projectId,
          actor,
          action: state === RollbackRequestState.APPROVED ? "rollback.approved" : "rollback.rejected",
          subjectId: id,
          breakGlass: session !== null,
          details: { approvals, requiredApprovals: request.requiredApprovals },
        });
      }
      return state;
    });
    const updated = await this.load(id);
    this.events.rollbackRequestUpdated(updated);
    // Quorum reached: execute now, in this call.
    if (outcome === RollbackRequestState.APPROVED) return this.execute(id, actor, "review");
    return updated;
  }

  async retry(actor: Actor, id: string): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.visible(actor, id);
    const access = await this.access.project(actor, found.projectSlug, Role.DEPLOYER);
    if (found.requestedById !== user.id && !roleAtLeast(access.role, Role.APPROVER)) {
      throw forbidden("only the requester, an APPROVER or an ADMIN can retry a rollback request");
    }
    if (found.state !== RollbackRequestState.FAILED) {
      throw badInput(`rollback request is not failed: only FAILED requests can be retried (state is ${found.state})`, { state: found.state });
    }
    return this.execute(id, actor, "retry");
  }

  async addNote(actor: Actor, id: string, text: string): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.visible(actor, id);
    const access = await this.access.project(actor, found.projectSlug, Role.VIEWER);
    const body = text?.trim() ?? "";
    if (body === "") throw badInput("note text is required");
    if (body.length > 20_000) throw badInput("note text must be at most 20000 characters");
    const session = await this.approvals.activeSession(access.project.id, user.id);
    await this.db.transaction(async (tx) => {
      const note = { id: newId("Note"), requestId: id, authorId: user.id, text: body, createdAt: new Date() };
      await tx.insert(RollbackNote, note);
      await tx.update(RollbackRequest, { id }, { updatedAt: new Date() });
      await this.audit.append(tx, {
        projectId: found.projectId,
        actor,
        action: "rollback.note_added",
        subjectId: id,
        breakGlass: session !== null,
        details: { noteId: note.id, text: body },
      });
    });
    const updated = await this.load(id);
    this.events.rollbackRequestUpdated(updated);
    return updated;
  }

  // ---------------------------------------------------------------- execution

  /**
   * Executes an APPROVED request (or retries a FAILED one) against the newest head. Runs under
   * its tenant-environment's lock, which the project lock excludes: an EXECUTING request seen by
   * whoever holds the project lock is an interrupted one.
   */
  private async execute(
    id: string,
    actor: Actor,
    trigger: "request" | "review" | "retry",
    ready: { request?: RollbackRequest; plan?: RollbackPlan } = {},
  ): Promise<RollbackRequest> {
    const initial = ready.request ?? (await this.load(id));
    const from = trigger === "retry" ? RollbackRequestState.FAILED : RollbackRequestState.APPROVED;
    return this.db.withTenantEnvironmentLock(initial.projectId, initial.tenantEnvironmentId, async () => {
      const startedAt = new Date();
      const claim = {
        state: RollbackRequestState.EXECUTING,
        executionStartedAt: startedAt,
        executorId: this.executorId,
        error: null,
        errorCode: null,
        updatedAt: startedAt,
      };
      const claimed = await this.db.transaction(async (tx) => {
        const res = await tx
          .createQueryBuilder()
          .update(RollbackRequest)
          .set({ ...claim, executionAttempts: () => `"executionAttempts" + 1` })
          .where({ id, state: from })
          .execute();
        if (!res.affected) return false;
        if (trigger === "retry") {
          // Like every other event of a break-glass request, its retry is flagged too.
          await this.audit.append(tx, {
            projectId: initial.projectId,
            actor,
            action: "rollback.retried",
            subjectId: id,
            breakGlass: initial.breakGlass,
            details: { attempt: initial.executionAttempts + 1 },
          });
        }
        return true;
      });
      // Someone else moved it first (a concurrent review or retry): report where it stands.
      if (!claimed) {
        if (trigger === "retry") throw badInput(`rollback request is not failed: only FAILED requests can be retried`);
        return this.load(id);
      }
      // A request this call just created and loaded is known up to the claim's own columns: no re-read.
      const executing =
        trigger === "request" && ready.request
          ? Object.assign(Object.create(Object.getPrototypeOf(initial) as object) as RollbackRequest, initial, claim, {
              executionAttempts: initial.executionAttempts + 1,
            })
          : await this.load(id);
      this.events.rollbackRequestUpdated(executing);

      let committed: string | null = null;
      try {
        committed = await this.commitRollback(
          executing,
          actor,
          (sha) => {
            committed = sha;
          },
          ready.plan,
        );
      } catch (err) {
        if (committed) {
          // Git has the commit but recording it failed: leave it EXECUTING for reconciliation.
          this.options.logger.error({ err, requestId: id, commit: committed }, "rollback committed but not recorded; reconciliation will finish it");
          throw new AppError("EXECUTION_FAILED", `rollback committed as ${committed} but recording it failed; it will be reconciled`, { requestId: id });
        }
        const failure = toFailure(err);
        if (!(err instanceof AppError)) this.options.logger.error({ err, requestId: id }, "rollback execution failed");
        await this.fail(id, actor, failure.code, failure.message);
        if (trigger === "review" && failure.code === "EXECUTION_FAILED") {
          throw new AppError("EXECUTION_FAILED", Messages.executionFailedAfterApproval, { requestId: id, reason: failure.message });
        }
        throw new AppError(failure.code, failure.message, { requestId: id });
      }
      const completed = await this.load(id);
      this.events.rollbackRequestUpdated(completed);
      return completed;
    });
  }

  private async commitRollback(request: RollbackRequest, actor: Actor, onCommitted: (sha: string) => void, planned?: RollbackPlan): Promise<string> {
    const repo = await this.git.open(request.projectSlug);
    const te = await this.catalog.tenantEnvironmentById(request.tenantEnvironmentId);
    if (!te) throw notFound(`tenant-environment of request ${request.id} no longer exists`);
    const fields = request.mode === RollbackMode.FIELD ? parseFieldSelection(request.selectedFields) : [];
    const target = await this.deployments.findByRevision(te, request.targetSha);
    if (!target) throw badInput(`Invalid target revision: ${request.targetSha} is no longer a deployment of tenant/${te.tenantSlug} env/${te.environment}`);
    const scope = { tenant: te.tenantSlug, environment: te.environment, mode: request.mode, service: request.service, fields };

    for (let attempt = 1; ; attempt++) {
      await repo.refresh();
      const head = await repo.head();
      if (!head) throw new Error("the repository has no head");
      const conflicts = await findConflicts(repo, scope, request.baseSha, head);
      if (conflicts.length > 0) {
        throw conflict(
          `concurrent changes: ${conflicts.join(", ")} changed between revision ${request.baseSha.slice(0, 7)} (the request's base) and revision ${head.slice(0, 7)} (the current head); review the new state and request again`,
          { baseSha: request.baseSha, headSha: head, paths: conflicts },
        );
      }
      const plan = planned && planned.head === head ? planned : await planRollback({ repo, ...scope, head, target: request.targetSha });
      planned = undefined;
      const message = rollbackMessage({
        tenant: te.tenantSlug,
        environment: te.environment,
        targetSha: request.targetSha,
        mode: request.mode,
        service: request.service,
        fields: request.selectedFields,
        justification: request.justification,
        author: request.requestedBy.email,
        approval: approvalLine(request),
        requestId: request.id,
      });
      await this.pause("before-commit");
      let sha: string;
      let parent: string | null;
      try {
        const result = await repo.commit({
          base: head,
          writes: plan.writes,
          guardPaths: plan.guardPaths,
          message,
          author: { name: request.requestedBy.name ?? request.requestedBy.email, email: request.requestedBy.email },
        });
        sha = result.sha;
        parent = result.parent;
      } catch (err) {
        if (err instanceof GitConflictError && attempt < MAX_EXECUTION_ATTEMPTS) continue;
        if (err instanceof NothingToCommitError) throw badInput(`nothing to roll back: tenant/${te.tenantSlug} env/${te.environment} already matches revision ${request.targetSha.slice(0, 7)}`);
        throw err;
      }
      onCommitted(sha);
      await this.pause("after-commit");
      // Committed right on the planned head: the plan's change set is exactly the commit's.
      const known = parent === plan.head ? { parent, files: plan.files } : undefined;
      await this.recordExecution(repo, request, te, target, sha, message, actor, known);
      return sha;
    }
  }

  /** Records the rollback deployment, marks what it undid ROLLED_BACK and completes the request, in one transaction. */
  private async recordExecution(
    repo: ProjectRepository,
    request: RollbackRequest,
    te: TenantEnvironment,
    target: Deployment,
    sha: string,
    message: string,
    actor: Actor | null,
    known?: { parent: string | null; files: FileChangeSet[] },
  ): Promise<void> {
    await this.deployments.recordCommit(
      repo,
      actor,
      { te, revision: sha, author: request.requestedBy, source: DeploymentSource.ROLLBACK, summary: message.split("\n")[0]!, rollbackRequestId: request.id, known },
      async (tx, deployment) => {
        const undone = await this.undoneDeployments(tx, request, target, deployment);
        await this.deployments.setStatus(tx, undone, DeploymentStatus.ROLLED_BACK);
        await tx.update(RollbackRequest, { id: request.id }, { state: RollbackRequestState.COMPLETED, commitSha: sha, commitMessage: message, updatedAt: new Date() });
        await this.audit.append(tx, {
          projectId: request.projectId,
          actor,
          action: "rollback.executed",
          subjectId: request.id,
          breakGlass: request.breakGlass,
          details: {
            commitSha: sha,
            deploymentId: deployment.id,
            rolledBack: undone.map((d) => d.revision),
            ...(request.breakGlassSessionId ? { breakGlassSessionId: request.breakGlassSessionId } : {}),
          },
        });
      },
    );
  }

  private async undoneDeployments(tx: EntityManager, request: RollbackRequest, target: Deployment, rollback: Deployment): Promise<Deployment[]> {
    const newer = await this.deployments.newerThan(tx, request.tenantEnvironmentId, target.seq);
    return undoneBy(
      newer.filter((d) => d.id !== rollback.id),
      request,
    );
  }

  private async fail(id: string, actor: Actor | null, code: string, message: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const request = await tx.findOneByOrFail(RollbackRequest, { id });
      await tx.update(RollbackRequest, { id }, { state: RollbackRequestState.FAILED, error: message, errorCode: code, updatedAt: new Date() });
      await this.audit.append(tx, {
        projectId: request.projectId,
        actor,
        action: "rollback.failed",
        subjectId: id,
        breakGlass: request.breakGlass,
        details: { code, error: message, attempt: request.executionAttempts },
      });
    });
    this.events.rollbackRequestUpdated(await this.load(id));
  }

  private async pause(at: ExecutionPausePoint): Promise<void> {
    const pause = this.options.pause;
    if (pause && pause.at === at) {
      this.options.logger.warn({ at, ms: pause.ms }, "execution paused by test hook");
      await new Promise((resolve) => setTimeout(resolve, pause.ms));
    }
  }

  /**
   * Finishes executions that a crash interrupted: a request left EXECUTING whose commit exists in
   * Git becomes COMPLETED (and its deployment is recorded); one without a commit becomes FAILED and
   * retryable. Holding the project lock means nobody is executing there right now.
   */
  async reconcile(): Promise<{ completed: string[]; failed: string[] }> {
    const stuck = await this.db.manager.find(RollbackRequest, { where: { state: RollbackRequestState.EXECUTING }, select: { id: true, projectId: true } });
    const completed: string[] = [];
    const failed: string[] = [];
    for (const projectId of new Set(stuck.map((r) => r.projectId))) {
      await this.db.withProjectLock(projectId, async () => {
        const requests = await this.db.manager.find(RollbackRequest, { where: { projectId, state: RollbackRequestState.EXECUTING }, relations: REQUEST_RELATIONS });
        if (requests.length === 0) return;
        const repo = await this.git.open(requests[0]!.projectSlug);
        await repo.refresh();
        const commits = await this.findRequestCommits(repo, new Set(requests.map((r) => r.id)));
        for (const request of requests) {
          const sha = commits.get(request.id);
          const te = await this.catalog.tenantEnvironmentById(request.tenantEnvironmentId);
          const target = te ? await this.deployments.findByRevision(te, request.targetSha) : null;
          if (sha && te && target) {
            const info = await repo.commitInfo(sha);
            await this.recordExecution(repo, request, te, target, sha, info.message, null);
            this.options.logger.warn({ requestId: request.id, commit: sha }, "reconciled an interrupted execution: the commit exists, request COMPLETED");
            completed.push(request.id);
          } else {
            await this.fail(request.id, null, "EXECUTION_FAILED", "execution was interrupted before its commit was written; retry it");
            this.options.logger.warn({ requestId: request.id }, "reconciled an interrupted execution: no commit, request FAILED");
            failed.push(request.id);
          }
          this.events.rollbackRequestUpdated(await this.load(request.id));
        }
      });
    }
    return { completed, failed };
  }

  /** Commits carrying the given request ids, searching back from the head. */
  private async findRequestCommits(repo: ProjectRepository, ids: Set<string>): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const history = await repo.history();
    for (let i = history.length - 1; i >= 0 && found.size < ids.size; i--) {
      const id = parseTrailers(history[i]!.message).get("Rollback Request ID");
      if (id && ids.has(id) && !found.has(id)) found.set(id, history[i]!.sha);
    }
    return found;
  }

  // ---------------------------------------------------------------- queries

  async load(id: string): Promise<RollbackRequest> {
    const request = await this.db.manager.findOne(RollbackRequest, {
      where: { id },
      relations: REQUEST_RELATIONS,
      order: { reviews: { createdAt: "ASC" }, notes: { createdAt: "ASC" } },
    });
    if (!request) throw notFound(`rollback request "${id}" not found`);
    return request;
  }

  /** Reads the request with a row lock, so concurrent reviews of it take turns. */
  private async lockRequest(tx: EntityManager, id: string): Promise<RollbackRequest> {
    const request = await this.db.forUpdate(tx.createQueryBuilder(RollbackRequest, "r").where("r.id = :id", { id })).getOne();
    if (!request) throw notFound(`rollback request "${id}" not found`);
    return request;
  }

  /** The request if the caller may see it; NOT_FOUND otherwise. */
  private async visible(actor: Actor, id: string): Promise<RollbackRequest> {
    const found = await this.find(actor, id);
    if (!found) throw notFound(`rollback request "${id}" not found`);
    return found;
  }

  async find(actor: Actor, id: string): Promise<RollbackRequest | null> {
    const request = await this.db.manager.findOne(RollbackRequest, {
      where: { id },
      relations: REQUEST_RELATIONS,
      order: { reviews: { createdAt: "ASC" }, notes: { createdAt: "ASC" } },
    });
    if (!request) return null;
    return (await this.access.projectById(actor, request.projectId)) ? request : null;
  }

  async list(actor: Actor, filter: RequestFilter): Promise<Page<RollbackRequest>> {
    const { project } = await this.access.project(actor, filter.project);
    const first = pageSize(filter.first);
    const qb = this.db.manager
      .createQueryBuilder(RollbackRequest, "r")
      .leftJoinAndSelect("r.requestedBy", "requestedBy")
      .leftJoinAndSelect("r.reviews", "reviews")
      .leftJoinAndSelect("reviews.reviewer", "reviewer")
      .leftJoinAndSelect("r.notes", "notes")
      .leftJoinAndSelect("notes.author", "noteAuthor")
      .where("r.projectId = :projectId", { projectId: project.id });
    if (filter.tenant) qb.andWhere("r.tenant = :tenant", { tenant: filter.tenant });
    if (filter.environment) qb.andWhere("r.environment = :environment", { environment: filter.environment });
    if (filter.state) qb.andWhere("r.state = :state", { state: filter.state });
    const totalCount = await qb.clone().getCount();
    let after: { at: Date; id: string } | null = null;
    if (filter.after) {
      const [at, rid] = decodeCursor(filter.after, "rbk").split("|");
      if (!at || !rid || Number.isNaN(new Date(at).getTime())) throw badInput(`invalid cursor "${filter.after}"`);
      after = { at: new Date(at), id: rid };
      qb.andWhere("(r.createdAt < :at OR (r.createdAt = :at AND r.id < :rid))", { at: after.at, rid: after.id });
    }
    const ids = await qb
      .clone()
      .select(["r.id", "r.createdAt"])
      .orderBy("r.createdAt", "DESC")
      .addOrderBy("r.id", "DESC")
      .take(first + 1)
      .getMany();
    const page = ids.slice(0, first);
    const items = page.length === 0 ? [] : await Promise.all(page.map((r) => this.load(r.id)));
    return {
      items,
      totalCount,
      hasNextPage: ids.length > first,
      hasPreviousPage: after !== null,
      cursorOf: (r) => encodeCursor("rbk", `${new Date(r.createdAt).toISOString()}|${r.id}`),
    };
  }

  /** Whether the actor can see the project the request belongs to (for subscriptions). */
  async canRead(actor: Actor, projectId: string): Promise<boolean> {
    return (await this.access.projectById(actor, projectId)) !== null;
  }
}

function approvalLine(request: RollbackRequest): string {
  if (request.breakGlassSessionId && request.requiredApprovals > 0 && request.approvals < request.requiredApprovals) {
    return `Bypassed by break-glass session ${request.breakGlassSessionId}`;
  }
  if (request.requiredApprovals === 0) return "Not required";
  const approvers = request.reviews.filter((r) => r.decision === ReviewDecision.APPROVE).map((r) => r.reviewer.email);
  return `Approved by ${approvers.join(", ")} (quorum: ${approvers.length}/${request.requiredApprovals})`;
}

function fingerprintOf(input: RollbackInputData): string {
  return sha256(
    canonicalJson({
      project: input.project,
      tenant: input.tenant,
      environment: input.environment,
      mode: input.mode,
      targetSha: input.targetSha?.trim().toLowerCase() ?? null,
      service: input.service?.trim() || null,
      fields: (input.fields ?? []).map((f) => f.trim()).filter(Boolean),
      justification: input.justification?.trim() ?? null,
    }),
  );
}

function toFailure(err: unknown): { code: "CONFLICT" | "EXECUTION_FAILED" | "BAD_USER_INPUT" | "NOT_FOUND"; message: string } {
  if (err instanceof AppError && (err.code === "CONFLICT" || err.code === "BAD_USER_INPUT" || err.code === "NOT_FOUND")) {
    return { code: err.code, message: err.message };
  }
  if (err instanceof GitConflictError) return { code: "CONFLICT", message: `concurrent changes: ${err.message}` };
  const reason = err instanceof Error ? err.message : String(err);
  // libgit2 messages carry absolute paths of the data directory (e.g. "failed to lock file
  // '/data/repos/p.git/refs/heads/main.lock'"); the spec forbids internal paths in client errors.
  const safe = reason
    .split("\n")[0]!
    .replace(/(?<![\w.:/])\/[^\s'"]*?\.git\/([^\s'"]*)/g, "$1")
    .replace(/(?<![\w.:/])\/(?:[^\s'"/]+\/)+([^\s'"/]+)/g, "$1");
  return { code: "EXECUTION_FAILED", message: `rollback execution failed: ${safe}` };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || /UNIQUE constraint failed/.test(String((err as Error)?.message));
}
