import type { EntityManager } from "typeorm";
import type { RollbackRequest } from "../../entities/rollback-request.js";
import type { DeployAdmission, DeployAttempt, DeployGuard } from "../history/deploy-guard.js";
import type { CompletedRollback, RollbackGuard } from "../rollback/guard.js";
import type { Actor } from "../services/actor.js";
import type { FreezeService } from "./freeze-windows.js";
import type { HoldService } from "./holds.js";

/** Freeze windows and holds, as the deployment and rollback services see them. */
export class SafetyGuards implements DeployGuard, RollbackGuard {
  constructor(
    private readonly freezes: FreezeService,
    private readonly holds: HoldService,
  ) {}

  async admitDeploy(attempt: DeployAttempt): Promise<DeployAdmission> {
    const passage = await this.freezes.admitDeploy(attempt.actor, attempt.project.id, attempt.te.environment);
    const holds = await this.holds.admitDeploy(attempt);
    return {
      trailers: holds.trailers,
      record: async (tx, deployment) => {
        await this.freezes.recordPassage(tx, attempt.actor, attempt.project.id, passage, { id: deployment.id, kind: "deployment" });
        await holds.record?.(tx, deployment);
      },
    };
  }

  async admitRollback(tx: EntityManager, actor: Actor, request: Pick<RollbackRequest, "id" | "projectId" | "environment">): Promise<void> {
    const passage = await this.freezes.admitRollback(actor, request.projectId, request.environment, tx);
    await this.freezes.recordPassage(tx, actor, request.projectId, passage, { id: request.id, kind: "rollback" });
  }

  prepareCompletion(rollback: CompletedRollback): ReturnType<RollbackGuard["prepareCompletion"]> {
    return this.holds.prepareCompletion(rollback);
  }
}
