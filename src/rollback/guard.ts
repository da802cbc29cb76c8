import type { EntityManager } from "typeorm";
import type { Deployment } from "../../entities/deployment.js";
import type { RollbackTrigger } from "../../entities/enums.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { ProjectRepository } from "../git/git-store.js";
import type { Actor } from "../services/actor.js";

/**
 * What may refuse a rollback, or add to its completion: the safety automation (freeze windows,
 * holds) implements it; the rollback service calls it where requests are admitted and recorded.
 */

/** A completed rollback about to be recorded. */
export interface CompletedRollback {
  repo: ProjectRepository;
  request: RollbackRequest;
  te: TenantEnvironment;
  target: Deployment;
  /** The rollback commit. */
  sha: string;
}

export interface RollbackGuard {
  /**
   * In the transaction that creates a request, approves it to its quorum, or retries it: throws
   * to refuse (frozen), or records why it may go through.
   */
  admitRollback(tx: EntityManager, actor: Actor, request: Pick<RollbackRequest, "id" | "projectId" | "environment">): Promise<void>;
  /** Before the completion is recorded: returns what runs in the recording transaction (holds placed and released). */
  prepareCompletion(rollback: CompletedRollback): Promise<(tx: EntityManager, actor: Actor | null) => Promise<void>>;
}

export const NO_ROLLBACK_GUARD: RollbackGuard = {
  admitRollback: async () => undefined,
  prepareCompletion: async () => async () => undefined,
};

/** Why a rollback request exists: a person asked (MANUAL), or the server reacted to a Degraded report. */
export interface RequestOrigin {
  trigger: RollbackTrigger;
  triggeredByDeploymentId: string | null;
  /** The auto-rollback policy lets the request skip approval (flagged in the audit trail like break-glass). */
  bypassApproval: boolean;
}
