import { Field, InputType } from "type-graphql";
import { RollbackMode } from "../../entities/enums.js";

@InputType({ description: "Which rollback: where, how much, to which revision, and why." })
export class RollbackInput {
  @Field({ description: "Slug of the project." })
  project: string;

  @Field({ description: "Slug of the tenant." })
  tenant: string;

  @Field({ description: "Environment name." })
  environment: string;

  @Field(() => RollbackMode, { description: "FULL, SERVICE or FIELD." })
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
