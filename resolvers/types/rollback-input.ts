import { Field, InputType } from "type-graphql";
import { RollbackMode } from "../../entities/enums.js";

@InputType()
export class RollbackInput {
  @Field()
  project: string;

  @Field()
  tenant: string;

  @Field()
  environment: string;

  @Field(() => RollbackMode)
  mode: RollbackMode;

  @Field(() => String, { nullable: true, description: "Revision (full or abbreviated sha) to roll back to. Missing or empty: 'targetSha is required'." })
  targetSha?: string | null;

  @Field(() => String, { nullable: true, description: "Required for SERVICE and FIELD." })
  service?: string | null;

  @Field(() => [String], {
    nullable: true,
    description: "FIELD only: field paths '[file:]dotted.path', file defaults to values (image.tag, replicas, variables:LOG_LEVEL).",
  })
  fields?: string[] | null;

  @Field(() => String, { nullable: true, description: "Required by requestRollback, ignored by previewRollback." })
  justification?: string | null;
}
