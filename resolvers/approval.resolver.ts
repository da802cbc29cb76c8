import { Arg, ID, Int, Mutation, Resolver } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { BreakGlassSession } from "../entities/break-glass-session.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";

@Resolver()
export class ApprovalResolver {
  constructor(private readonly services: Services) {}

  @Mutation(() => ApprovalPolicy, { description: "ADMIN only. Sets how many approvals rollbacks in an environment need; recorded in the audit trail." })
  setApprovalPolicy(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("environment", { description: "Environment name, e.g. production." }) environment: string,
    @Arg("requiredApprovals", () => Int, { description: "Approvals a rollback needs, 0 (none) to 10." }) requiredApprovals: number,
    @Arg("allowSelfApproval", { description: "Whether a requester may approve their own request." }) allowSelfApproval: boolean,
    @CurrentActor() actor: Actor,
  ): Promise<ApprovalPolicy> {
    return this.services.approvals.setPolicy(actor, project, environment, requiredApprovals, allowSelfApproval);
  }

  @Mutation(() => BreakGlassSession, {
    description: "Opens an emergency session for the caller: their rollbacks skip approval until it closes or expires, flagged in the audit trail.",
  })
  openBreakGlassSession(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("justification", { description: "Why approval must be bypassed; recorded in the audit trail." }) justification: string,
    @Arg("durationMinutes", () => Int, { nullable: true, defaultValue: 60, description: "How long the session lasts, up to the server's maximum." }) durationMinutes: number,
    @CurrentActor() actor: Actor,
  ): Promise<BreakGlassSession> {
    return this.services.approvals.openBreakGlass(actor, project, justification, durationMinutes);
  }

  @Mutation(() => BreakGlassSession, { description: "Closes a break-glass session before it expires." })
  closeBreakGlassSession(@Arg("id", () => ID, { description: "Id of the session (bgs_...)." }) id: string, @CurrentActor() actor: Actor): Promise<BreakGlassSession> {
    return this.services.approvals.closeBreakGlass(actor, id);
  }
}
