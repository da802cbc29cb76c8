import { RollbackRequestState } from "../../entities/enums.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { Logger } from "pino";
import { LessThanOrEqual } from "typeorm";
import type { Database } from "../db/database.js";
import type { GitStore, ProjectRepository } from "../git/git-store.js";
import { parseTrailers } from "../history/commit-message.js";
import type { DeploymentQueries } from "../history/queries.js";
import type { Catalog } from "../services/catalog.js";
import type { Events } from "../services/events.js";
import type { RollbackExecutor } from "./executor.js";
import { REQUEST_RELATIONS, type RollbackQueries } from "./queries.js";

/**
 * Crash recovery: settles every non-terminal state a killed server can leave behind, to match
 * what Git has. PENDING waits for people; APPROVED and EXECUTING wait for this.
 */
export class ExecutionReconciler {
  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentQueries,
    private readonly events: Events,
    private readonly queries: RollbackQueries,
    private readonly executor: RollbackExecutor,
    private readonly logger: Logger,
  ) {}

  /**
   * Finishes executions that a crash interrupted: a request left EXECUTING whose commit exists in
   * Git becomes COMPLETED (and its deployment is recorded); one without a commit becomes FAILED and
   * retryable. Holding the project lock means nobody is executing there right now.
   */
  async reconcile(options: { approvedIdleMs?: number } = {}): Promise<{ completed: string[]; failed: string[]; resumed: string[] }> {
    const interrupted = await this.settleExecuting();
    const resumed = await this.resumeApproved(options.approvedIdleMs ?? 0);
    return { ...interrupted, resumed };
  }

  /**
   * Executes APPROVED requests that nobody is executing: a crash between the approval (or the
   * request that needed none) and the claim of its execution leaves them there. One whose
   * approval holds (quorum met, none needed, break-glass or policy bypass at request time)
   * executes now, ending COMPLETED or FAILED like any execution; one without it (never written
   * by this server) becomes FAILED, and a retry re-checks its approval. `idleMs` skips requests
   * approved so recently that their own execution may still be on its way to the claim; the
   * claim is a compare-and-set on the state, so even a race executes a request once.
   */
  private async resumeApproved(idleMs: number): Promise<string[]> {
    const before = new Date(Date.now() - idleMs);
    const approved = await this.db.manager.find(RollbackRequest, {
      where: { state: RollbackRequestState.APPROVED, updatedAt: LessThanOrEqual(before) },
      select: { id: true, approvals: true, requiredApprovals: true, breakGlass: true },
      order: { createdAt: "ASC" },
    });
    const resumed: string[] = [];
    for (const request of approved) {
      const holds = request.requiredApprovals === 0 || request.approvals >= request.requiredApprovals || request.breakGlass;
      if (!holds) {
        await this.executor.failIf(
          request.id,
          RollbackRequestState.APPROVED,
          "EXECUTION_FAILED",
          "approved without its quorum of approvals; retry it to have the approval checked again",
        );
        continue;
      }
      try {
        const done = await this.executor.execute(request.id, null, "recovery");
        this.logger.warn({ rollbackRequestId: request.id, state: done.state }, "resumed an approved request whose execution a crash interrupted");
      } catch (err) {
        // The executor recorded the failure on the request (FAILED, retryable) unless it is left for the next pass.
        this.logger.warn({ rollbackRequestId: request.id, err: err instanceof Error ? err.message : String(err) }, "resumed an approved request; its execution failed");
      }
      resumed.push(request.id);
    }
    return resumed;
  }

  private async settleExecuting(): Promise<{ completed: string[]; failed: string[] }> {
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
            await this.executor.recordExecution(repo, request, te, target, sha, info.message, null);
            this.logger.warn({ rollbackRequestId: request.id, commit: sha }, "reconciled an interrupted execution: the commit exists, request COMPLETED");
            completed.push(request.id);
          } else {
            await this.executor.fail(request.id, null, "EXECUTION_FAILED", "execution was interrupted before its commit was written; retry it");
            this.logger.warn({ rollbackRequestId: request.id }, "reconciled an interrupted execution: no commit, request FAILED");
            failed.push(request.id);
          }
          this.events.rollbackRequestUpdated(await this.queries.load(request.id));
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
}
