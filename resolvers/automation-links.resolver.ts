import { Arg, FieldResolver, Resolver, Root } from "type-graphql";
import { AutoRollbackPolicy } from "../entities/auto-rollback-policy.js";
import { Deployment } from "../entities/deployment.js";
import { DeploymentHold } from "../entities/deployment-hold.js";
import { FreezeWindow } from "../entities/freeze-window.js";
import { Project } from "../entities/project.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import type { Services } from "../src/app.js";

/** Safety automation on the project: auto-rollback policies and freeze windows. */
@Resolver(() => Project)
export class ProjectAutomationResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [AutoRollbackPolicy], { description: "The automatic rollback policies of the project's environments." })
  autoRollbackPolicies(@Root() project: Project): Promise<AutoRollbackPolicy[]> {
    return this.services.autoRollback.policies(project);
  }

  @FieldResolver(() => [FreezeWindow], { description: "Windows open at activeAt; without it, every window that has not ended yet (open and upcoming)." })
  freezeWindows(
    @Root() project: Project,
    @Arg("activeAt", () => Date, { nullable: true, description: "Only windows open at this time." }) activeAt: Date | null,
  ): Promise<FreezeWindow[]> {
    return this.services.freezes.list(project, activeAt);
  }
}

/** Safety automation on the tenant-environment: its holds and the freeze open now. */
@Resolver(() => TenantEnvironment)
export class TenantEnvironmentAutomationResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => [DeploymentHold], { description: "Holds placed by completed rollbacks, newest first (active ones by default; at most 200)." })
  holds(
    @Root() te: TenantEnvironment,
    @Arg("activeOnly", () => Boolean, { nullable: true, defaultValue: true, description: "False to include released holds too." }) activeOnly: boolean | null,
  ): Promise<DeploymentHold[]> {
    return this.services.holds.ofTenantEnvironment(te, activeOnly ?? true);
  }

  @FieldResolver(() => FreezeWindow, { nullable: true, description: "The freeze window open now for this environment, if any." })
  activeFreeze(@Root() te: TenantEnvironment): Promise<FreezeWindow | null> {
    return this.services.freezes.active(te.projectId, te.environment);
  }
}

/** What triggered a rollback request and what it holds. */
@Resolver(() => RollbackRequest)
export class RollbackRequestAutomationResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => Deployment, { nullable: true, description: "The deployment whose Degraded report triggered an automatic rollback." })
  async triggeredBy(@Root() request: RollbackRequest): Promise<Deployment | null> {
    return request.triggeredByDeploymentId ? this.services.deploymentQueries.byId(request.triggeredByDeploymentId) : null;
  }

  @FieldResolver(() => [DeploymentHold], { description: "Holds this rollback placed on the values it undid." })
  holds(@Root() request: RollbackRequest): Promise<DeploymentHold[]> {
    return this.services.holds.ofRequest(request.id);
  }
}
