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

  @Query(() => DeploymentConnection, { description: "Deployments of one tenant-environment, newest first." })
  async deploymentHistory(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("tenant", { description: "Slug of the tenant." }) tenant: string,
    @Arg("environment", { description: "Environment name." }) environment: string,
    @Args() args: HistoryArgs,
    @Paging() paging: PageRequest,
    @CurrentActor() actor: Actor,
  ): Promise<DeploymentConnection> {
    return toConnection(await this.services.deploymentQueries.history(actor, project, tenant, environment, { ...args, ...paging }));
  }

  @Query(() => RevisionComparison, { description: "What moving a tenant-environment from base to target changes; base defaults to the current revision." })
  compareRevisions(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("tenant", { description: "Slug of the tenant." }) tenant: string,
    @Arg("environment", { description: "Environment name." }) environment: string,
    @Arg("target", { description: "Revision to compare to (full or abbreviated sha)." }) target: string,
    @Arg("base", () => String, { nullable: true, description: "Revision to compare from (full or abbreviated sha); defaults to the current revision." }) base: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RevisionComparison> {
    return this.services.revisions.compare(actor, project, tenant, environment, target, base);
  }

  @Mutation(() => Deployment, { description: "Commits a release or a promotion of one service to a tenant-environment and records the deployment." })
  deploy(@Arg("input", () => DeployInput, { description: "What to deploy and where." }) input: DeployInput, @CurrentActor() actor: Actor): Promise<Deployment> {
    return this.services.deployments.deploy(actor, input);
  }

  @FieldResolver(() => String, { description: "The first 7 characters of the commit sha." })
  shortRevision(@Root() deployment: Deployment): string {
    return deployment.revision.slice(0, 7);
  }

  @FieldResolver(() => RollbackRequest, { nullable: true, description: "Set when source is ROLLBACK." })
  async rollbackRequest(@Root() deployment: Deployment, @CurrentActor() actor: Actor): Promise<RollbackRequest | null> {
    if (!deployment.rollbackRequestId) return null;
    return this.services.rollbackQueries.find(actor, deployment.rollbackRequestId);
  }

  @Subscription(() => Deployment, {
    subscribe: subscribeToProject<DeploymentEvent>("deploymentRecorded", { agentsOfTheProject: true }),
    description: "Every new deployment of matching tenant-environments, and every change of a deployment's status.",
  })
  deploymentRecorded(
    @Root() event: DeploymentEvent,
    @Arg("project", { description: "Slug of the project." }) _project: string,
    @Arg("tenant", () => String, { nullable: true, description: "Only this tenant." }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true, description: "Only this environment." }) _environment: string | null,
  ): Deployment {
    return event.deployment;
  }
}
