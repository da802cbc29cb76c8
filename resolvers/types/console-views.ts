import { Field, Int, ObjectType } from "type-graphql";
import { BlastRadius, RollbackMode } from "../../entities/enums.js";

@ObjectType({ description: "One rollback mode and whether the project's organization may use it (plan and feature flags)." })
export class RollbackModeAvailability {
  @Field(() => RollbackMode, { description: "The rollback mode." })
  mode: RollbackMode;

  @Field({ description: "True when the organization's plan and feature flags allow this mode." })
  allowed: boolean;

  @Field(() => String, { nullable: true, description: "Why not, as previewRollback and requestRollback would refuse it (names the plan or flag); null when allowed." })
  reason: string | null;

  @Field(() => BlastRadius, { description: "How much of the tenant-environment the mode can change." })
  blastRadius: BlastRadius;
}

@ObjectType({ description: "Whether the caller may approve or reject a rollback request now." })
export class ReviewEligibility {
  @Field({ description: "True when reviewRollbackRequest would accept the caller's review now." })
  allowed: boolean;

  @Field(() => String, { nullable: true, description: "The error a review would get now (role, self-approval, already reviewed, not pending); null when allowed." })
  reason: string | null;
}

@ObjectType({ description: "The first link of a project's audit hash chain that does not hold." })
export class AuditChainBreak {
  @Field(() => Int, { description: "Sequence number of the event where the chain breaks." })
  seq: number;

  @Field(() => String, { nullable: true, description: "Id of the event where the chain breaks; null when events were deleted from its end." })
  eventId: string | null;

  @Field({ description: "What does not hold, e.g. content edited after it was written, an event missing." })
  reason: string;
}

@ObjectType({ description: "Result of walking a project's audit hash chain from its first event." })
export class AuditChainVerification {
  @Field({ description: "True when every event's hash matches its content and the previous event's hash, and none is missing." })
  intact: boolean;

  @Field(() => Int, { description: "Events checked." })
  checked: number;

  @Field(() => AuditChainBreak, { nullable: true, description: "The first link that does not hold; null when intact." })
  firstBreak: AuditChainBreak | null;
}
