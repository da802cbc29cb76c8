import { Args, Mutation, Resolver } from "type-graphql";
import { AutoRollbackPolicy } from "../entities/auto-rollback-policy.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { AutoRollbackPolicyArgs } from "./types/automation-args.js";

@Resolver(() => AutoRollbackPolicy)
export class AutoRollbackPolicyResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => AutoRollbackPolicy, { description: "ADMIN only. Sets whether and how an environment rolls back automatically when a fresh deployment turns Degraded." })
  setAutoRollbackPolicy(@Args() args: AutoRollbackPolicyArgs, @CurrentActor() actor: Actor): Promise<AutoRollbackPolicy> {
    return this.services.autoRollback.setPolicy(actor, args);
  }
}
