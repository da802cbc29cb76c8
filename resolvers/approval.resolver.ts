import { Arg, Ctx, ID, Int, Mutation, Resolver } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { BreakGlassSession } from "../entities/break-glass-session.js";
import type { Services } from "../src/app.js";
import { requireActor, type RequestContext } from "./context.js";

@Resolver()
export class ApprovalResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => ApprovalPolicy)
  setApprovalPolicy(
    @Arg("project") project: string,
    @Arg("environment") environment: string,
    @Arg("requiredApprovals", () => Int) requiredApprovals: number,
    @Arg("allowSelfApproval") allowSelfApproval: boolean,
    @Ctx() ctx: RequestContext,
  ): Promise<ApprovalPolicy> {
    return this.services.approvals.setPolicy(requireActor(ctx), project, environment, requiredApprovals, allowSelfApproval);
  }

  @Mutation(() => BreakGlassSession)
  openBreakGlassSession(
    @Arg("project") project: string,
    @Arg("justification") justification: string,
    @Arg("durationMinutes", () => Int, { nullable: true, defaultValue: 60 }) durationMinutes: number,
    @Ctx() ctx: RequestContext,
  ): Promise<BreakGlassSession> {
    return this.services.approvals.openBreakGlass(requireActor(ctx), project, justification, durationMinutes);
  }

  @Mutation(() => BreakGlassSession)
  closeBreakGlassSession(@Arg("id", () => ID) id: string, @Ctx() ctx: RequestContext): Promise<BreakGlassSession> {
    return this.services.approvals.closeBreakGlass(requireActor(ctx), id);
  }
}
