import { Arg, Args, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { Deployment } from "../entities/deployment.js";
import { ReviewDecision, RollbackRequestState } from "../entities/enums.js";
import { RollbackRequest } from "../entities/rollback-request.js";
import type { Services } from "../src/app.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor, subscribeToProject } from "./context.js";
import { RollbackPreview } from "./types/comparison.js";
import { ReviewEligibility } from "./types/console-views.js";
import { RollbackRequestConnection, toConnection } from "./types/connections.js";
import { BackwardPageArgs, Paging } from "./types/page-args.js";
import { RollbackInput } from "./types/rollback-input.js";
import type { PageRequest } from "../src/services/paging.js";

@Resolver(() => RollbackRequest)
export class RollbackResolver {
  constructor(private readonly services: Services) {}

  @Query(() => RollbackPreview)
  previewRollback(@Arg("input", () => RollbackInput) input: RollbackInput, @CurrentActor() actor: Actor): Promise<RollbackPreview> {
    return this.services.rollbackQueries.preview(actor, input);
  }

  @Query(() => RollbackRequest, { nullable: true })
  rollbackRequest(@Arg("id", () => ID) id: string, @CurrentActor() actor: Actor): Promise<RollbackRequest | null> {
    return this.services.rollbackQueries.find(actor, id);
  }

  @Query(() => RollbackRequestConnection)
  async rollbackRequests(
    @Arg("project") project: string,
    @Arg("tenant", () => String, { nullable: true }) tenant: string | null,
    @Arg("environment", () => String, { nullable: true }) environment: string | null,
    @Arg("state", () => RollbackRequestState, { nullable: true }) state: RollbackRequestState | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) _first: number,
    @Arg("after", () => String, { nullable: true }) _after: string | null,
    @Args() _backward: BackwardPageArgs,
    @Paging() paging: PageRequest,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequestConnection> {
    return toConnection(await this.services.rollbackQueries.list(actor, { project, tenant, environment, state, ...paging }));
  }

  @FieldResolver(() => ReviewEligibility, { description: "Whether the caller may approve or reject this request now, and why not." })
  viewerCanReview(@Root() request: RollbackRequest, @CurrentActor() actor: Actor): Promise<ReviewEligibility> {
    return this.services.rollbacks.reviewEligibility(actor, request);
  }

  @FieldResolver(() => Deployment, { nullable: true, description: "The ROLLBACK deployment its execution recorded, once COMPLETED; its status follows the agent's reports." })
  async deployment(@Root() request: RollbackRequest): Promise<Deployment | null> {
    if (!request.commitSha) return null;
    const te = await this.services.catalog.tenantEnvironmentById(request.tenantEnvironmentId);
    return te ? this.services.deploymentQueries.findByRevision(te, request.commitSha) : null;
  }

  @Mutation(() => RollbackRequest, {
    description: "Creates the request; executes it at once when no approval is required or a break-glass session bypasses it.",
  })
  requestRollback(
    @Arg("input", () => RollbackInput) input: RollbackInput,
    @Arg("idempotencyKey", () => String, { nullable: true }) idempotencyKey: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequest> {
    return this.services.rollbacks.request(actor, input, idempotencyKey);
  }

  @Mutation(() => RollbackRequest)
  reviewRollbackRequest(
    @Arg("id", () => ID) id: string,
    @Arg("decision", () => ReviewDecision) decision: ReviewDecision,
    @Arg("comment", () => String, { nullable: true }) comment: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequest> {
    return this.services.rollbacks.review(actor, id, decision, comment);
  }

  @Mutation(() => RollbackRequest)
  retryRollbackExecution(@Arg("id", () => ID) id: string, @CurrentActor() actor: Actor): Promise<RollbackRequest> {
    return this.services.rollbacks.retry(actor, id);
  }

  @Mutation(() => RollbackRequest)
  addRollbackNote(@Arg("id", () => ID) id: string, @Arg("text") text: string, @CurrentActor() actor: Actor): Promise<RollbackRequest> {
    return this.services.rollbacks.addNote(actor, id, text);
  }

  @Subscription(() => RollbackRequest, {
    description: "Every state change, review and note of matching rollback requests.",
    subscribe: subscribeToProject<RollbackRequest>("rollbackRequestUpdated"),
  })
  rollbackRequestUpdated(
    @Root() request: RollbackRequest,
    @Arg("project") _project: string,
    @Arg("tenant", () => String, { nullable: true }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true }) _environment: string | null,
    @Arg("id", () => ID, { nullable: true }) _id: string | null,
  ): RollbackRequest {
    return request;
  }
}
