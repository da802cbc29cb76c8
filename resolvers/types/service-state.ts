import { Field, ObjectType } from "type-graphql";
import { JSONScalar } from "../../entities/scalars.js";

@ObjectType({ description: "One service of a tenant-environment at its current revision." })
export class ServiceState {
  @Field({ description: "Name of the service (its folder)." })
  name: string;

  @Field(() => JSONScalar, { description: "The service's values.yaml, parsed." })
  values: Record<string, unknown>;

  @Field(() => [String], { description: "Paths of the service's files, relative to the repository root." })
  files: string[];
}
