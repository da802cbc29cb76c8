import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { Logger } from "pino";
import type { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus, ReviewDecision, RollbackMode, RollbackRequestState, RollbackTrigger } from "../../entities/enums.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { EntityWrites } from "../db/writes.js";
import type { FileChangeSet } from "../diff/comparison.js";
import { AppError, badInput, conflict, type ErrorCode, Messages, notFound } from "../errors.js";
import { GitConflictError, NothingToCommitError } from "../git/errors.js";
import type { GitStore, ProjectRepository } from "../git/git-store.js";
import { rollbackMessage } from "../history/commit-message.js";
import type { DeploymentQueries } from "../history/queries.js";
import type { DeploymentRecorder } from "../history/recorder.js";
import { rolledBackBy } from "../history/rolled-back.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { Catalog } from "../services/catalog.js";
import type { Events } from "../services/events.js";
import { NO_ROLLBACK_GUARD, type RollbackGuard } from "./guard.js";
import { findConflicts, parseFieldSelection, planRollback, type RollbackPlan } from "./planner.js";
import type { RollbackQueries } from "./queries.js";

/** Points where execution can be paused, so tests can kill a server mid-execution. */
export type ExecutionPausePoint = "before-commit" | "after-commit";

export interface ExecutorOptions {
  logger: Logger;
  /** Identifies this server process in `executorId`. */
  executorId?: string;
  pause?: { at: ExecutionPausePoint; ms: number } | null;
  /** Freeze windows and holds (safety automation). */
  guard?: RollbackGuard;
}

const MAX_EXECUTION_ATTEMPTS = 5;

/** How long, and how often, a caller follows a request another executor claimed. */
const SETTLE_WAIT_MS = 60_000;
const SETTLE_POLL_MS = 100;
/** The claim of an execution went to another executor (a recovery pass, a concurrent approver). */
const CLAIMED_ELSEWHERE = Symbol("claimed elsewhere");

/**
 * Executes approved rollback requests: claims the request, commits the planned writes on the
 * newest head with conflict detection, records the deployment and what it rolled back, and marks
 * the request COMPLETED, or FAILED with a coded reason.
 */
export class RollbackExecutor {
  readonly executorId: string;
  private readonly guard: RollbackGuard;
  /** The claim and the completion run on every execution: fixed SQL. */
  private readonly requestWrites: EntityWrites<RollbackRequest>;

  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentQueries,
    private readonly recorder: DeploymentRecorder,
    private readonly audit: AuditTrail,
    private readonly events: Events,
    private readonly queries: RollbackQueries,
    private readonly options: ExecutorOptions,
  ) {
    this.executorId = options.executorId ?? `srv-${process.pid}-${randomBytes(4).toString("hex")}`;
    this.guard = options.guard ?? NO_ROLLBACK_GUARD;
    this.requestWrites = new EntityWrites(db.dataSource, RollbackRequest);
  }

  /**
   * Executes an APPROVED request (or retries a FAILED one) against the newest head. Runs under
   * its tenant-environment's lock, which the project lock excludes: an EXECUTING request seen by
   * whoever holds the project lock is an interrupted one.
   */
  async execute(
    id: string,
    /** null: the server itself (crash recovery). */
    actor: Actor | null,
    trigger: "request" | "review" | "retry" | "recovery",
    ready: { request?: RollbackRequest; plan?: RollbackPlan; breakGlassSessionId?: string; te?: TenantEnvironment; target?: Deployment } = {},
  ): Promise<RollbackRequest> {
    const initial = ready.request ?? (await this.queries.load(id));
    const from = trigger === "retry" ? RollbackRequestState.FAILED : RollbackRequestState.APPROVED;
    const outcome = await this.db.withTenantEnvironmentLock(initial.projectId, initial.tenantEnvironmentId, async (): Promise<RollbackRequest | typeof CLAIMED_ELSEWHERE> => {
      const startedAt = new Date();
      const claim = {
        ...(ready.breakGlassSessionId ? { breakGlassSessionId: ready.breakGlassSessionId } : {}),
        state: RollbackRequestState.EXECUTING,
        executionStartedAt: startedAt,
        executorId: this.executorId,
        error: null,
        errorCode: null,
        updatedAt: startedAt,
      };
      const claimed = await this.db.transaction(async (tx) => {
        // Compare-and-set: exactly one executor moves it out of `from`.
        const affected = await this.requestWrites.update(tx, claim, { id, state: from }, [`"executionAttempts" = "executionAttempts" + 1`]);
        if (!affected) return false;
        if (trigger === "retry" && actor) {
          await this.guard.admitRollback(tx, actor, initial);
          // Like every other event of a break-glass request, its retry is flagged too.
          await this.audit.append(tx, {
            projectId: initial.projectId,
            actor,
            action: "rollback.retried",
            subjectId: id,
            breakGlass: initial.breakGlass,
            details: { attempt: initial.executionAttempts + 1, ...(ready.breakGlassSessionId ? { breakGlassSessionId: ready.breakGlassSessionId } : {}) },
          });
        }
        this.events.inTransaction(tx).rollbackRequestUpdated(initial.projectId, id);
        return true;
      });
      // Someone else moved it first (a concurrent review or retry): report where it stands.
      if (!claimed) {
        if (trigger === "retry") throw badInput(`rollback request is not failed: only FAILED requests can be retried`);
        return CLAIMED_ELSEWHERE;
      }
      // A request this call just created and loaded is known up to the claim's own columns: no re-read.
      const executing =
        trigger === "request" && ready.request
          ? Object.assign(Object.create(Object.getPrototypeOf(initial) as object) as RollbackRequest, initial, claim, {
              executionAttempts: initial.executionAttempts + 1,
            })
          : await this.queries.load(id);
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
          trigger === "request" ? ready : {},
        );
      } catch (err) {
        if (committed) {
          // Git has the commit but recording it failed: leave it EXECUTING for reconciliation.
          this.options.logger.error({ err, rollbackRequestId: id, commit: committed }, "rollback committed but not recorded; reconciliation will finish it");
          throw new AppError("EXECUTION_FAILED", `rollback committed as ${committed} but recording it failed; it will be reconciled`, { requestId: id });
        }
        const failure = toFailure(err);
        if (!(err instanceof AppError)) this.options.logger.error({ err, rollbackRequestId: id }, "rollback execution failed");
        await this.fail(id, actor, failure.code, failure.message);
        if (trigger === "review" && failure.code === "EXECUTION_FAILED") {
          throw new AppError("EXECUTION_FAILED", Messages.executionFailedAfterApproval, { requestId: id, reason: failure.message });
        }
        throw new AppError(failure.code, failure.message, { requestId: id });
      }
      const completed = await this.queries.load(id);
      this.events.rollbackRequestUpdated(completed);
      return completed;
    });
    // Followed outside the lock, which the other executor may still need.
    if (outcome !== CLAIMED_ELSEWHERE) return outcome;
    if (trigger === "recovery" || trigger === "retry") return this.queries.load(id);
    return this.settled(id, trigger);
  }

  private async commitRollback(
    request: RollbackRequest,
    actor: Actor | null,
    onCommitted: (sha: string) => void,
    planned?: RollbackPlan,
    known: { te?: TenantEnvironment; target?: Deployment } = {},
  ): Promise<string> {
    const repo = await this.git.open(request.projectSlug);
    // A request executed in the call that created it has just read both (its tenant-environment and target revision never change).
    const te = known.te?.id === request.tenantEnvironmentId ? known.te : await this.catalog.tenantEnvironmentById(request.tenantEnvironmentId);
    if (!te) throw notFound(`tenant-environment of request ${request.id} no longer exists`);
    const fields = request.mode === RollbackMode.FIELD ? parseFieldSelection(request.selectedFields) : [];
    const target =
      known.target?.revision === request.targetSha && known.target.tenantEnvironmentId === te.id ? known.target : await this.deployments.findByRevision(te, request.targetSha);
    if (!target) throw badInput(`Invalid target revision: ${request.targetSha} is no longer a deployment of tenant/${te.tenantSlug} env/${te.environment}`);
    const scope = { tenant: te.tenantSlug, environment: te.environment, mode: request.mode, service: request.service, fields };

    for (let attempt = 1; ; attempt++) {
      // Planned in this call: the first attempt builds on the head it was planned on. Had the branch
      // moved since, the commit's guards still see whether it touched what this one writes (a
      // conflict the next attempt then reports on the newest head, as if read here).
      let head: string | null;
      if (attempt === 1 && planned) head = planned.head;
      else {
        await repo.refresh();
        head = await repo.head();
      }
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
        automatic: request.trigger === RollbackTrigger.AUTOMATIC,
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
        if (err instanceof NothingToCommitError)
          throw badInput(`nothing to roll back: tenant/${te.tenantSlug} env/${te.environment} already matches revision ${request.targetSha.slice(0, 7)}`);
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
  async recordExecution(
    repo: ProjectRepository,
    request: RollbackRequest,
    te: TenantEnvironment,
    target: Deployment,
    sha: string,
    message: string,
    actor: Actor | null,
    known?: { parent: string | null; files: FileChangeSet[] },
  ): Promise<void> {
    const placeHolds = await this.guard.prepareCompletion({ repo, request, te, target, sha });
    await this.recorder.recordCommit(
      repo,
      actor,
      { te, revision: sha, author: request.requestedBy, source: DeploymentSource.ROLLBACK, summary: message.split("\n")[0]!, rollbackRequestId: request.id, known },
      async (tx, deployment) => {
        const undone = await this.rolledBackDeployments(tx, request, target, deployment);
        await this.recorder.setStatus(tx, undone, DeploymentStatus.ROLLED_BACK);
        await this.requestWrites.update(tx, { state: RollbackRequestState.COMPLETED, commitSha: sha, commitMessage: message, updatedAt: new Date() }, { id: request.id });
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
        await placeHolds(tx, actor);
        this.events.inTransaction(tx).rollbackRequestUpdated(request.projectId, request.id);
      },
    );
  }

  private async rolledBackDeployments(tx: EntityManager, request: RollbackRequest, target: Deployment, rollback: Deployment): Promise<Deployment[]> {
    // Those already ROLLED_BACK stay so (rolledBackBy never picks them): not read at all.
    const newer = await this.deployments.newerThan(tx, request.tenantEnvironmentId, target.seq, DeploymentStatus.ROLLED_BACK);
    return rolledBackBy(
      newer.filter((d) => d.id !== rollback.id),
      request,
    );
  }

  async fail(id: string, actor: Actor | null, code: string, message: string): Promise<void> {
    await this.failIf(id, null, code, message, actor);
  }

  /** Marks the request FAILED (only from state `from` when given; false when it was not there). */
  async failIf(id: string, from: RollbackRequestState | null, code: string, message: string, actor: Actor | null = null): Promise<boolean> {
    const failed = await this.db.transaction(async (tx) => {
      const request = await tx.findOneByOrFail(RollbackRequest, { id });
      const res = await tx.update(RollbackRequest, from ? { id, state: from } : { id }, {
        state: RollbackRequestState.FAILED,
        error: message,
        errorCode: code,
        updatedAt: new Date(),
      });
      if (!res.affected) return false;
      await this.audit.append(tx, {
        projectId: request.projectId,
        actor,
        action: "rollback.failed",
        subjectId: id,
        breakGlass: request.breakGlass,
        details: { code, error: message, attempt: request.executionAttempts },
      });
      this.events.inTransaction(tx).rollbackRequestUpdated(request.projectId, id);
      return true;
    });
    if (failed) this.events.rollbackRequestUpdated(await this.queries.load(id));
    return failed;
  }

  /**
   * Where a request someone else claimed ends: a caller whose request waited for the
   * tenant-environment's lock while a recovery pass (or a concurrent approver) executed it gets
   * the outcome it would have had, not a passing EXECUTING. Bounded: after the wait it is
   * answered as it stands (recovery settles a stuck execution).
   */
  private async settled(id: string, trigger: "request" | "review"): Promise<RollbackRequest> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    for (;;) {
      const request = await this.queries.load(id);
      const moving = request.state === RollbackRequestState.EXECUTING || request.state === RollbackRequestState.APPROVED;
      if (!moving || Date.now() >= deadline) {
        // A request that failed answers its creator as its own execution would have; a reviewer's review stands and sees the request.
        if (trigger === "request" && request.state === RollbackRequestState.FAILED && request.errorCode) {
          throw new AppError(request.errorCode as ErrorCode, request.error ?? "rollback execution failed", { requestId: id });
        }
        return request;
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  private async pause(at: ExecutionPausePoint): Promise<void> {
    const pause = this.options.pause;
    if (pause && pause.at === at) {
      this.options.logger.warn({ at, ms: pause.ms }, "execution paused by test hook");
      await new Promise((resolve) => setTimeout(resolve, pause.ms));
    }
  }
}

function approvalLine(request: RollbackRequest): string {
  if (request.trigger === RollbackTrigger.AUTOMATIC && request.breakGlass && !request.breakGlassSessionId && request.approvals < request.requiredApprovals) {
    return `Bypassed by the auto-rollback policy of ${request.environment}`;
  }
  if (request.breakGlassSessionId && request.requiredApprovals > 0 && request.approvals < request.requiredApprovals) {
    return `Bypassed by break-glass session ${request.breakGlassSessionId}`;
  }
  if (request.requiredApprovals === 0) return "Not required";
  const approvers = request.reviews.filter((r) => r.decision === ReviewDecision.APPROVE).map((r) => r.reviewer.email);
  return `Approved by ${approvers.join(", ")} (quorum: ${approvers.length}/${request.requiredApprovals})`;
}

function toFailure(err: unknown): { code: "CONFLICT" | "EXECUTION_FAILED" | "BAD_USER_INPUT" | "NOT_FOUND"; message: string } {
  if (err instanceof AppError && (err.code === "CONFLICT" || err.code === "BAD_USER_INPUT" || err.code === "NOT_FOUND")) {
    return { code: err.code, message: err.message };
  }
  if (err instanceof GitConflictError) return { code: "CONFLICT", message: `concurrent changes: ${err.message}` };
  // Git's failures come without paths (src/git maps them); anything else is named by its first line.
  const reason = err instanceof Error ? err.message : String(err);
  return { code: "EXECUTION_FAILED", message: `rollback execution failed: ${reason.split("\n")[0]}` };
}
