import { ArgsType, Field, Int } from "type-graphql";
import { RollbackMode } from "../../entities/enums.js";

@ArgsType()
export class AutoRollbackPolicyArgs {
  @Field()
  project: string;

  @Field()
  environment: string;

  @Field()
  enabled: boolean;

  @Field(() => Int, { nullable: true, defaultValue: 30 })
  windowMinutes?: number | null;

  @Field(() => RollbackMode, { nullable: true, defaultValue: RollbackMode.SERVICE })
  mode?: RollbackMode | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false })
  bypassApproval?: boolean | null;
}

@ArgsType()
export class FreezeWindowArgs {
  @Field()
  project: string;

  @Field()
  environment: string;

  @Field()
  startsAt: Date;

  @Field()
  endsAt: Date;

  @Field()
  reason: string;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  allowRollbacks?: boolean | null;
}
