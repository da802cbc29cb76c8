import type { EntityManager } from "typeorm";
import type { Deployment } from "../../entities/deployment.js";
import type { DeploymentSource, RollbackTrigger } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { ProjectRepository, TreeWrite } from "../git/git-store.js";
import type { Actor } from "../services/actor.js";

/**
 * Where the safety automation (freeze windows, holds) plugs into deploys and rollbacks. The
 * deployment and rollback services call these at a few points and know nothing else of it.
 */

/** A RELEASE or PROMOTION about to be committed: what it writes on top of which head. */
export interface DeployAttempt {
  actor: Actor;
  project: Project;
  te: TenantEnvironment;
  repo: ProjectRepository;
  head: string;
  service: string;
  source: DeploymentSource;
  writes: TreeWrite[];
  overrideHolds: boolean;
  holdOverrideJustification: string | null;
}

export interface DeployAdmission {
  /** Extra commit trailers (`Hold-Override: …`). */
  trailers: string[];
  /** Runs in the transaction that records the deployment (releases, audit events). */
  record?: (tx: EntityManager, deployment: Deployment) => Promise<void>;
}

export interface DeployGuard {
  /** Called before the commit: throws to refuse the deploy (frozen, re-introduced held values). */
  admitDeploy(attempt: DeployAttempt): Promise<DeployAdmission>;
}

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

export const NO_DEPLOY_GUARD: DeployGuard = { admitDeploy: async () => ({ trailers: [] }) };

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
