import { Field, InputType } from "type-graphql";
import { SyncState } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@InputType()
export class DriftItemInput {
  @Field()
  kind: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  field?: string | null;

  @Field(() => JSONScalar, { nullable: true })
  desired?: unknown;

  @Field(() => JSONScalar, { nullable: true })
  actual?: unknown;
}

@InputType()
export class SyncReportInput {
  @Field()
  project: string;

  @Field()
  tenant: string;

  @Field()
  environment: string;

  @Field()
  revision: string;

  @Field(() => SyncState)
  state: SyncState;

  @Field(() => String, { nullable: true })
  health?: string | null;

  @Field(() => [DriftItemInput], { nullable: true })
  drift?: DriftItemInput[] | null;
}
