import { Field, ObjectType } from "type-graphql";
import { ChangeKind } from "./enums.js";
import { JSONScalar } from "./scalars.js";

/** One changed field. path is dotted inside file; service is null for environment-level files. */
@ObjectType({ description: "One changed field. path is dotted inside file; service is null for environment-level files." })
export class FieldChange {
  @Field(() => String, { nullable: true, description: "The service whose file changed; null for environment-level files." })
  service: string | null;

  /** File name inside the service folder (values.yaml) or the tenant-environment (env.yaml). */
  @Field({ description: "The changed file: relative to the service's folder for a service's file (values.yaml), to the tenant-environment's folder otherwise (env.yaml)." })
  file: string;

  @Field({ description: "Dotted path of the field inside the file, e.g. image.tag." })
  path: string;

  @Field(() => ChangeKind, { description: "Whether the field was added, removed or modified." })
  kind: ChangeKind;

  @Field(() => JSONScalar, { nullable: true, description: "The value before the change; null when the field was added." })
  before: unknown;

  @Field(() => JSONScalar, { nullable: true, description: "The value after the change; null when the field was removed." })
  after: unknown;

  @Field(() => String, {
    nullable: true,
    description: "For a service field: the selector that FIELD-mode rollback takes for it ('[file:]dotted.path').",
  })
  selector?: string | null;
}
