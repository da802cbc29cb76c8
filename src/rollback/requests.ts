import type { EntityManager } from "typeorm";
import { ReviewDecision, Role, RollbackMode, RollbackRequestState, RollbackTrigger, roleAtLeast } from "../../entities/enums.js";
import { Review, RollbackNote, RollbackRequest } from "../../entities/rollback-request.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { Database } from "../db/database.js";
import { EntityWrites } from "../db/writes.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { tenantDir } from "../git/layout.js";
import { newId } from "../../entities/ids.js";
import { sha256 } from "../lib/ids.js";
import { roleRefusal, type AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { canonicalJson, type AuditTrail } from "../services/audit.js";
import type { Events } from "../services/events.js";
import type { RollbackExecutor } from "./executor.js";
import { NO_ROLLBACK_GUARD, type RequestOrigin, type RollbackGuard } from "./guard.js";
import { planPrepared, type RollbackInputData, type RollbackPreparer } from "./preparation.js";
import type { RollbackQueries } from "./queries.js";
import { reviewRefusal } from "./review-rules.js";
import { checkText, TEXT_RULES } from "../services/input-rules.js";

const MANUAL: RequestOrigin = { trigger: RollbackTrigger.MANUAL, triggeredByDeploymentId: null, bypassApproval: false };

/**
 * The request state machine: requestRollback (with idempotency keys), reviews up to the quorum,
 * retries of FAILED requests and notes. Every change of a request's state goes through here or
 * through the executor it hands approved requests to.
 *
 *   PENDING --review(REJECT)--> REJECTED
 *   PENDING --quorum of APPROVE--> APPROVED --executor--> EXECUTING --> COMPLETED | FAILED
 *   (no approval needed, a break-glass session, or an auto-rollback policy that bypasses it) --> APPROVED at once
 *   FAILED --retry--> EXECUTING      (approval still holds: quorum met, none needed, or an open break-glass session of the caller)
 *   FAILED --retry--> PENDING        (approval no longer holds: the request waits for its reviews again)
 */
export class RollbackRequests {
  private writes: EntityWrites<RollbackRequest> | null = null;

  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditTrail,
    private readonly events: Events,
    private readonly preparer: RollbackPreparer,
    private readonly queries: RollbackQueries,
    private readonly executor: RollbackExecutor,
    /** Freeze windows and holds (safety automation). */
    private readonly guard: RollbackGuard = NO_ROLLBACK_GUARD,
  ) {}

  async request(actor: Actor, input: RollbackInputData, idempotencyKey?: string | null, origin: RequestOrigin = MANUAL): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const key = idempotencyKey?.trim() || null;
    if (key !== null) checkText("idempotencyKey", key, TEXT_RULES.identifier);
    const fingerprint = fingerprintOf(input);
    if (key) {
      const existing = await this.db.manager.findOneBy(RollbackRequest, { requestedById: user.id, idempotencyKey: key });
      if (existing) return this.replay(existing, fingerprint, key);
    }

    const justification = input.justification?.trim() ?? "";
    const prepared = await this.preparer.prepare(actor, input, Role.DEPLOYER);
    if (justification === "") throw badInput("justification is required: explain why the rollback is needed");
    const plan = await planPrepared(prepared, input.mode);
    if (plan.writes.length === 0) {
      const scope = input.mode === RollbackMode.FULL ? `${tenantDir(prepared.te.tenantSlug, prepared.te.environment)}/` : `service "${prepared.service}"`;
      throw badInput(`nothing to roll back: ${scope} already matches revision ${prepared.target.revision.slice(0, 7)}`);
    }
    const { project, organization } = prepared.access;
    const decision = await this.approvals.decide(organization, project, prepared.te.environment, user);
    const session = decision.breakGlassSession;
    const policyBypass = decision.approvalRequired && session === null && origin.bypassApproval;
    const bypass = decision.approvalRequired && (session !== null || policyBypass);
    const state = decision.approvalRequired && !bypass ? RollbackRequestState.PENDING : RollbackRequestState.APPROVED;

    let request: RollbackRequest;
    try {
      request = await this.db.transaction(async (tx) => {
        const row = Object.assign(new RollbackRequest(), {
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
          breakGlass: session !== null || policyBypass,
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
          trigger: origin.trigger,
          triggeredByDeploymentId: origin.triggeredByDeploymentId,
        });
        // Fixed SQL; its creation and update times come back in the same statement (RETURNING).
        await (this.writes ??= new EntityWrites(this.db.dataSource, RollbackRequest)).insert(tx, row);
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
            ...(origin.trigger === RollbackTrigger.AUTOMATIC ? { trigger: origin.trigger, triggeredByDeploymentId: origin.triggeredByDeploymentId } : {}),
          },
        });
        if (policyBypass) {
          await this.audit.append(tx, {
            projectId: project.id,
            actor,
            action: "autorollback.approval_bypassed",
            subjectId: row.id,
            breakGlass: true,
            details: { bypassed: "approval", by: "auto-rollback policy", environment: row.environment, requiredApprovals: decision.requiredApprovals },
          });
        } else if (bypass) {
          await this.audit.append(tx, {
            projectId: project.id,
            actor,
            action: "breakglass.used",
            subjectId: row.id,
            breakGlass: true,
            details: { breakGlassSessionId: session!.id, bypassed: "approval", requiredApprovals: decision.requiredApprovals },
          });
        }
        // A freeze window may refuse it (rolling all of this back) or let it through, on the record.
        await this.guard.admitRollback(tx, actor, row);
        this.events.inTransaction(tx).rollbackRequestUpdated(project.id, row.id);
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
    // Just inserted (TypeORM read its timestamps back): who asked is the caller, and it has no reviews or notes yet.
    const created = Object.assign(request, { requestedBy: user, reviews: [], notes: [] });
    this.events.rollbackRequestUpdated(created);
    // Executing at once: the plan just made is still good if the head has not moved since.
    if (state === RollbackRequestState.APPROVED) return this.executor.execute(created.id, actor, "request", { request: created, plan, te: prepared.te, target: prepared.target });
    return created;
  }

  private async replay(existing: RollbackRequest, fingerprint: string, key: string): Promise<RollbackRequest> {
    if (existing.inputFingerprint !== fingerprint) {
      throw badInput(`idempotency key "${key}" was already used for rollback request ${existing.id} with a different input`, { requestId: existing.id });
    }
    return this.queries.load(existing.id);
  }

  async review(actor: Actor, id: string, decision: ReviewDecision, comment?: string | null): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.queries.visible(actor, id);
    const access = await this.access.project(actor, found.projectSlug, Role.APPROVER);
    const session = await this.approvals.activeSession(access.project.id, user.id);
    const policy = await this.approvals.policy(access.project.id, found.environment);
    const outcome = await this.db.transaction(async (tx) => {
      const request = await this.lockRequest(tx, id);
      const alreadyReviewed = (await tx.findOneBy(Review, { requestId: id, reviewerId: user.id })) !== null;
      const refusal = reviewRefusal(request, user.id, policy.allowSelfApproval, alreadyReviewed);
      if (refusal) throw refusal;
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
      // The approval that executes it passes the same freeze check as a new request.
      if (state === RollbackRequestState.APPROVED) await this.guard.admitRollback(tx, actor, request);
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
      this.events.inTransaction(tx).rollbackRequestUpdated(request.projectId, id);
      return state;
    });
    const updated = await this.queries.load(id);
    this.events.rollbackRequestUpdated(updated);
    // Quorum reached: execute now, in this call.
    if (outcome === RollbackRequestState.APPROVED) return this.executor.execute(id, actor, "review");
    return updated;
  }

  /** Whether the caller may review the request now, and if not the error reviewing it would give. */
  async reviewEligibility(actor: Actor, request: RollbackRequest): Promise<{ allowed: boolean; reason: string | null }> {
    const user = this.access.requireUser(actor);
    const access = await this.access.project(actor, request.projectSlug);
    const policy = await this.approvals.policy(access.project.id, request.environment);
    const alreadyReviewed = request.reviews.some((r) => r.reviewerId === user.id);
    const reason = roleRefusal(access, Role.APPROVER) ?? reviewRefusal(request, user.id, policy.allowSelfApproval, alreadyReviewed)?.message ?? null;
    return { allowed: reason === null, reason };
  }

  async retry(actor: Actor, id: string): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.queries.visible(actor, id);
    const access = await this.access.project(actor, found.projectSlug, Role.DEPLOYER);
    if (found.requestedById !== user.id && !roleAtLeast(access.role, Role.APPROVER)) {
      throw forbidden("only the requester, an APPROVER or an ADMIN can retry a rollback request");
    }
    if (found.state !== RollbackRequestState.FAILED) {
      throw badInput(`rollback request is not failed: only FAILED requests can be retried (state is ${found.state})`, { state: found.state });
    }
    // The approval is checked again now: a break-glass session that let the request through may have closed since.
    const session = await this.approvals.activeSession(access.project.id, user.id);
    const approved = found.requiredApprovals === 0 || found.approvals >= found.requiredApprovals;
    const policyBypass = found.trigger === RollbackTrigger.AUTOMATIC && found.breakGlass && !found.breakGlassSessionId;
    if (approved || policyBypass) return this.executor.execute(id, actor, "retry");
    if (found.breakGlass && session) return this.executor.execute(id, actor, "retry", { breakGlassSessionId: session.id });
    const reason = found.breakGlass
      ? `it skipped approval through a break-glass session, and the caller has no open break-glass session now; it needs ${found.requiredApprovals - found.approvals} more approval(s)`
      : `it has ${found.approvals} of ${found.requiredApprovals} required approvals`;
    return this.backToPending(actor, found, reason);
  }

  /**
   * A retry whose approval no longer holds: the request waits for its reviews again instead of
   * executing (FAILED -> PENDING), on the record; an approval reaching the quorum executes it.
   */
  private async backToPending(actor: Actor, found: RollbackRequest, reason: string): Promise<RollbackRequest> {
    const moved = await this.db.transaction(async (tx) => {
      const res = await tx.update(RollbackRequest, { id: found.id, state: RollbackRequestState.FAILED }, { state: RollbackRequestState.PENDING, updatedAt: new Date() });
      if (!res.affected) return false;
      await this.audit.append(tx, {
        projectId: found.projectId,
        actor,
        action: "rollback.approval_required",
        subjectId: found.id,
        breakGlass: found.breakGlass,
        details: { reason, approvals: found.approvals, requiredApprovals: found.requiredApprovals, state: RollbackRequestState.PENDING },
      });
      this.events.inTransaction(tx).rollbackRequestUpdated(found.projectId, found.id);
      return true;
    });
    if (!moved) throw badInput(`rollback request is not failed: only FAILED requests can be retried`);
    const updated = await this.queries.load(found.id);
    this.events.rollbackRequestUpdated(updated);
    return updated;
  }

  async addNote(actor: Actor, id: string, text: string): Promise<RollbackRequest> {
    const user = this.access.requireUser(actor);
    const found = await this.queries.visible(actor, id);
    // Notes are writes: VIEWER is read-only.
    const access = await this.access.project(actor, found.projectSlug, Role.DEPLOYER);
    const body = text?.trim() ?? "";
    if (body === "") throw badInput("note text is required");
    checkText("text", body, TEXT_RULES.note);
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
      this.events.inTransaction(tx).rollbackRequestUpdated(found.projectId, id);
    });
    const updated = await this.queries.load(id);
    this.events.rollbackRequestUpdated(updated);
    return updated;
  }

  /** Reads the request with a row lock, so concurrent reviews of it take turns. */
  private async lockRequest(tx: EntityManager, id: string): Promise<RollbackRequest> {
    const request = await this.db.forUpdate(tx.createQueryBuilder(RollbackRequest, "r").where("r.id = :id", { id })).getOne();
    if (!request) throw notFound(`rollback request "${id}" not found`);
    return request;
  }
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

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || /UNIQUE constraint failed/.test(String((err as Error)?.message));
}
