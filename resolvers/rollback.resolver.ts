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

  @Query(() => RollbackPreview, { description: "What a rollback would change, computed without writing anything; fails with the error requestRollback would give." })
  previewRollback(@Arg("input", () => RollbackInput, { description: "The rollback to preview." }) input: RollbackInput, @CurrentActor() actor: Actor): Promise<RollbackPreview> {
    return this.services.rollbackQueries.preview(actor, input);
  }

  @Query(() => RollbackRequest, { nullable: true, description: "A rollback request by id; null when it does not exist or the caller may not see it." })
  rollbackRequest(@Arg("id", () => ID, { description: "Id of the request (rbk-...)." }) id: string, @CurrentActor() actor: Actor): Promise<RollbackRequest | null> {
    return this.services.rollbackQueries.find(actor, id);
  }

  @Query(() => RollbackRequestConnection, { description: "Rollback requests of a project, newest first." })
  async rollbackRequests(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("tenant", () => String, { nullable: true, description: "Only this tenant." }) tenant: string | null,
    @Arg("environment", () => String, { nullable: true, description: "Only this environment." }) environment: string | null,
    @Arg("state", () => RollbackRequestState, { nullable: true, description: "Only requests in this state." }) state: RollbackRequestState | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20, description: "Page size, 0 to 500." }) _first: number,
    @Arg("after", () => String, { nullable: true, description: "Cursor (an edge's cursor or pageInfo.endCursor) to continue after." }) _after: string | null,
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
    @Arg("input", () => RollbackInput, { description: "What to roll back, to which revision, and why." }) input: RollbackInput,
    @Arg("idempotencyKey", () => String, {
      nullable: true,
      description: "Any string unique to this request: retrying with the same key and input returns the first request instead of a new one.",
    })
    idempotencyKey: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequest> {
    return this.services.rollbacks.request(actor, input, idempotencyKey);
  }

  @Mutation(() => RollbackRequest, { description: "Approves or rejects a pending request; the last approval needed executes it." })
  reviewRollbackRequest(
    @Arg("id", () => ID, { description: "Id of the request (rbk-...)." }) id: string,
    @Arg("decision", () => ReviewDecision, { description: "APPROVE or REJECT." }) decision: ReviewDecision,
    @Arg("comment", () => String, { nullable: true, description: "Optional comment, shown with the review." }) comment: string | null,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequest> {
    return this.services.rollbacks.review(actor, id, decision, comment);
  }

  @Mutation(() => RollbackRequest, { description: "Executes a FAILED request again (for example after a conflict was resolved)." })
  retryRollbackExecution(@Arg("id", () => ID, { description: "Id of the request (rbk-...)." }) id: string, @CurrentActor() actor: Actor): Promise<RollbackRequest> {
    return this.services.rollbacks.retry(actor, id);
  }

  @Mutation(() => RollbackRequest, { description: "Adds a note to a rollback request and returns the request." })
  addRollbackNote(
    @Arg("id", () => ID, { description: "Id of the request (rbk-...)." }) id: string,
    @Arg("text", { description: "The note." }) text: string,
    @CurrentActor() actor: Actor,
  ): Promise<RollbackRequest> {
    return this.services.rollbacks.addNote(actor, id, text);
  }

  @Subscription(() => RollbackRequest, {
    description: "Every state change, review and note of matching rollback requests.",
    subscribe: subscribeToProject<RollbackRequest>("rollbackRequestUpdated"),
  })
  rollbackRequestUpdated(
    @Root() request: RollbackRequest,
    @Arg("project", { description: "Slug of the project." }) _project: string,
    @Arg("tenant", () => String, { nullable: true, description: "Only this tenant." }) _tenant: string | null,
    @Arg("environment", () => String, { nullable: true, description: "Only this environment." }) _environment: string | null,
    @Arg("id", () => ID, { nullable: true, description: "Only this request." }) _id: string | null,
  ): RollbackRequest {
    return request;
  }
}
