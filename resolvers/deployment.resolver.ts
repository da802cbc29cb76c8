import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { Deployment } from "../entities/deployment.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import type { Services } from "../src/app.js";
import type { DeploymentEvent } from "../src/services/events.js";
import { requireActor, type RequestContext } from "./context.js";
import { HistoryArgs } from "./tenant-environment.resolver.js";
import { RevisionComparison } from "./types/comparison.js";
import { DeploymentConnection, toConnection } from "./types/connections.js";
import { DeployInput } from "./types/deploy-input.js";

@Resolver(() => Deployment)
export class DeploymentResolver {
  constructor(private readonly services: Services) {}

  @Query(() => DeploymentConnection)
  async deploymentHistory(
    @Arg("project") project: string,
    @Arg("tenant") tenant: string,
    @Arg("environment") environment: string,
    @Args() args: HistoryArgs,
    @Ctx() ctx: RequestContext,
  ): Promise<DeploymentConnection> {
    return toConnection(await this.services.deploymentQueries.history(requireActor(ctx), project, tenant, environment, args));
  }

  @Query(() => RevisionComparison, { description: "base defaults to the current revision." })
  compareRevisions(
    @Arg("project") project: string,
    @Arg("tenant") tenant: string,
    @Arg("environment") environment: string,
    @Arg("target") target: string,
    @Arg("base", () => String, { nullable: true }) base: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<RevisionComparison> {
    return this.services.revisions.compare(requireActor(ctx), project, tenant, environment, target, base);
  }

  @Mutation(() => Deployment)
  deploy(@Arg("input", () => DeployInput) input: DeployInput, @Ctx() ctx: RequestContext): Promise<Deployment> {
    return this.services.deployments.deploy(requireActor(ctx), input);
  }

  @FieldResolver(() => String)
  shortRevision(@Root() deployment: Deployment): string {
    return deployment.revision.slice(0, 7);
  }

  @FieldResolver(() => RollbackRequest, { nullable: true, description: "Set when source is ROLLBACK." })
  async rollbackRequest(@Root() deployment: Deployment, @Ctx() ctx: RequestContext): Promise<RollbackRequest | null> {
    if (!deployment.rollbackRequestId) return null;
    return this.services.rollbackQueries.find(requireActor(ctx), deployment.rollbackRequestId);
  }

  @Subscription(() => Deployment, {
    subscribe: async ({ args, context }) => {
      const ctx = context as RequestContext;
      const { project } = await ctx.services.access.project(requireActor(ctx), args.project as string);
      const tenant = args.tenant as string | null | undefined;
      const environment = args.environment as string | null | undefined;
      return ctx.services.events.subscribe<DeploymentEvent>(
        `deploymentRecorded:${project.id}`,
        (e) => (!tenant || e.tenant === tenant) && (!environment || e.environment === environment),
      );
    },
  })
  deploymentRecorded(
    @Root() event: DeploymentEvent,
    @Arg("project") _project: string,
    @Arg("tenant", () => String, { nullable: true }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true }) _environment: string | null,
  ): Deployment {
    return event.deployment;
  }
}
