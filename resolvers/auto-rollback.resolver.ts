import { Args, Ctx, Mutation, Resolver } from "type-graphql";
import { AutoRollbackPolicy } from "../entities/auto-rollback-policy.js";
import type { Services } from "../src/app.js";
import { requireActor, type RequestContext } from "./context.js";
import { AutoRollbackPolicyArgs } from "./types/automation-args.js";

@Resolver(() => AutoRollbackPolicy)
export class AutoRollbackPolicyResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => AutoRollbackPolicy)
  setAutoRollbackPolicy(@Args() args: AutoRollbackPolicyArgs, @Ctx() ctx: RequestContext): Promise<AutoRollbackPolicy> {
    return this.services.autoRollback.setPolicy(requireActor(ctx), args);
  }
}
