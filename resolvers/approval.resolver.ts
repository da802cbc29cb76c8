import { Arg, ID, Int, Mutation, Resolver } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { BreakGlassSession } from "../entities/break-glass-session.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";

@Resolver()
export class ApprovalResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => ApprovalPolicy)
  setApprovalPolicy(
    @Arg("project") project: string,
    @Arg("environment") environment: string,
    @Arg("requiredApprovals", () => Int) requiredApprovals: number,
    @Arg("allowSelfApproval") allowSelfApproval: boolean,
    @CurrentActor() actor: Actor,
  ): Promise<ApprovalPolicy> {
    return this.services.approvals.setPolicy(actor, project, environment, requiredApprovals, allowSelfApproval);
  }

  @Mutation(() => BreakGlassSession)
  openBreakGlassSession(
    @Arg("project") project: string,
    @Arg("justification") justification: string,
    @Arg("durationMinutes", () => Int, { nullable: true, defaultValue: 60 }) durationMinutes: number,
    @CurrentActor() actor: Actor,
  ): Promise<BreakGlassSession> {
    return this.services.approvals.openBreakGlass(actor, project, justification, durationMinutes);
  }

  @Mutation(() => BreakGlassSession)
  closeBreakGlassSession(@Arg("id", () => ID) id: string, @CurrentActor() actor: Actor): Promise<BreakGlassSession> {
    return this.services.approvals.closeBreakGlass(actor, id);
  }
}
