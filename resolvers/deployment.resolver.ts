import { Arg, Args, FieldResolver, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { Deployment } from "../entities/deployment.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import type { DeploymentEvent } from "../src/services/events.js";
import { CurrentActor, subscribeToProject } from "./context.js";
import { RevisionComparison } from "./types/comparison.js";
import { DeploymentConnection, toConnection } from "./types/connections.js";
import { DeployInput } from "./types/deploy-input.js";
import { HistoryArgs } from "./types/history-args.js";
import { Paging } from "./types/page-args.js";
import type { PageRequest } from "../src/services/paging.js";

@Resolver(() => Deployment)
export class DeploymentResolver {
  constructor(private readonly services: Services) {}

  @Query(() => DeploymentConnection)
  async deploymentHistory(
    @Arg("project") project: string,
    @Arg("tenant") tenant: string,
    @Arg("environment") environment: string,
    @Args() args: HistoryArgs,
    @Paging() paging: PageRequest,
    @CurrentActor() actor: Actor,
  ): Promise<DeploymentConnection> {
    return toConnection(await this.services.deploymentQueries.history(actor, project, tenant, environment, { ...args, ...paging }));
  }

  @Query(() => RevisionComparison, { description: "base defaults to the current revision." })
  compareRevisions(
    @Arg("project") project: string,
    @Arg("tenant") tenant: string,
    @Arg("environment") environment: string,
    @Arg("target") target: string,
    @Arg("base", () => String, { nullable: true }) base: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RevisionComparison> {
    return this.services.revisions.compare(actor, project, tenant, environment, target, base);
  }

  @Mutation(() => Deployment)
  deploy(@Arg("input", () => DeployInput) input: DeployInput, @CurrentActor() actor: Actor): Promise<Deployment> {
    return this.services.deployments.deploy(actor, input);
  }

  @FieldResolver(() => String)
  shortRevision(@Root() deployment: Deployment): string {
    return deployment.revision.slice(0, 7);
  }

  @FieldResolver(() => RollbackRequest, { nullable: true, description: "Set when source is ROLLBACK." })
  async rollbackRequest(@Root() deployment: Deployment, @CurrentActor() actor: Actor): Promise<RollbackRequest | null> {
    if (!deployment.rollbackRequestId) return null;
    return this.services.rollbackQueries.find(actor, deployment.rollbackRequestId);
  }

  @Subscription(() => Deployment, { subscribe: subscribeToProject<DeploymentEvent>("deploymentRecorded", { agentsOfTheProject: true }) })
  deploymentRecorded(
    @Root() event: DeploymentEvent,
    @Arg("project") _project: string,
    @Arg("tenant", () => String, { nullable: true }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true }) _environment: string | null,
  ): Deployment {
    return event.deployment;
  }
}
