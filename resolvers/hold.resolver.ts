import { Arg, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { DeploymentHold } from "../entities/deployment-hold.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import type { Services } from "../src/app.js";
import { notFound } from "../src/errors.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";

@Resolver(() => DeploymentHold)
export class DeploymentHoldResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => DeploymentHold, { description: "Releases a hold, so the held value may be deployed again; recorded in the audit trail." })
  releaseDeploymentHold(
    @Arg("id", () => ID, { description: "Id of the hold (hold_...)." }) id: string,
    @Arg("justification", { description: "Why the value may return." }) justification: string,
    @CurrentActor() actor: Actor,
  ): Promise<DeploymentHold> {
    return this.services.holds.release(actor, id, justification);
  }

  @FieldResolver(() => RollbackRequest, { description: "The rollback that undid the value and placed the hold." })
  async rollbackRequest(@Root() hold: DeploymentHold, @CurrentActor() actor: Actor): Promise<RollbackRequest> {
    const request = await this.services.rollbackQueries.find(actor, hold.rollbackRequestId);
    if (!request) throw notFound(`rollback request "${hold.rollbackRequestId}" not found`);
    return request;
  }
}
