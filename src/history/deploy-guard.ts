import type { EntityManager } from "typeorm";
import type { Deployment } from "../../entities/deployment.js";
import type { DeploymentSource } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { ProjectRepository, TreeWrite } from "../git/git-store.js";
import type { Actor } from "../services/actor.js";

/**
 * What may refuse a deploy, or add to its commit and record: the safety automation (freeze
 * windows, holds) implements it; the deployment service calls it once per commit attempt.
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

export const NO_DEPLOY_GUARD: DeployGuard = { admitDeploy: async () => ({ trailers: [] }) };
