import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { DeploymentHold } from "../entities/deployment-hold.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import type { Services } from "../src/app.js";
import { notFound } from "../src/errors.js";
import { requireActor, type RequestContext } from "./context.js";

@Resolver(() => DeploymentHold)
export class DeploymentHoldResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => DeploymentHold)
  releaseDeploymentHold(@Arg("id", () => ID) id: string, @Arg("justification") justification: string, @Ctx() ctx: RequestContext): Promise<DeploymentHold> {
    return this.services.holds.release(requireActor(ctx), id, justification);
  }

  @FieldResolver(() => RollbackRequest)
  async rollbackRequest(@Root() hold: DeploymentHold, @Ctx() ctx: RequestContext): Promise<RollbackRequest> {
    const request = await this.services.rollbacks.find(requireActor(ctx), hold.rollbackRequestId);
    if (!request) throw notFound(`rollback request "${hold.rollbackRequestId}" not found`);
    return request;
  }
}
