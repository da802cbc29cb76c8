import { Field, ObjectType } from "type-graphql";
import { ChangeKind } from "./enums.js";
import { JSONScalar } from "./scalars.js";

/** One changed field. path is dotted inside file; service is null for environment-level files. */
@ObjectType({ description: "One changed field. path is dotted inside file; service is null for environment-level files." })
export class FieldChange {
  @Field(() => String, { nullable: true })
  service: string | null;

  /** File name inside the service folder (values.yaml) or the tenant-environment (env.yaml). */
  @Field()
  file: string;

  @Field()
  path: string;

  @Field(() => ChangeKind)
  kind: ChangeKind;

  @Field(() => JSONScalar, { nullable: true })
  before: unknown;

  @Field(() => JSONScalar, { nullable: true })
  after: unknown;

  @Field(() => String, {
    nullable: true,
    description: "For a service field: the selector that FIELD-mode rollback takes for it ('[file:]dotted.path').",
  })
  selector?: string | null;
}
