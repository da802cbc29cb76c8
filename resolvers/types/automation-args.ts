import { ArgsType, Field, Int } from "type-graphql";
import { RollbackMode } from "../../entities/enums.js";

@ArgsType()
export class AutoRollbackPolicyArgs {
  @Field({ description: "Slug of the project." })
  project: string;

  @Field({ description: "Environment name, e.g. production." })
  environment: string;

  @Field({ description: "Whether automatic rollback is on." })
  enabled: boolean;

  @Field(() => Int, { nullable: true, defaultValue: 30, description: "How young (in minutes) a Degraded deployment must be to trigger a rollback." })
  windowMinutes?: number | null;

  @Field(() => RollbackMode, { nullable: true, defaultValue: RollbackMode.SERVICE, description: "SERVICE (only the failing deployment's services) or FULL." })
  mode?: RollbackMode | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: "Whether the automatic request skips the approval policy." })
  bypassApproval?: boolean | null;
}

@ArgsType()
export class FreezeWindowArgs {
  @Field({ description: "Slug of the project." })
  project: string;

  @Field({ description: "Environment name." })
  environment: string;

  @Field({ description: "When the window opens." })
  startsAt: Date;

  @Field({ description: "When the window closes; after startsAt." })
  endsAt: Date;

  @Field({ description: "Why deployments are frozen; shown in the refusals." })
  reason: string;

  @Field(() => Boolean, { nullable: true, defaultValue: true, description: "Whether rollbacks may still go through." })
  allowRollbacks?: boolean | null;
}
