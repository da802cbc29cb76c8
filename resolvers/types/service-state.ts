import { Field, ObjectType } from "type-graphql";
import { JSONScalar } from "../../entities/scalars.js";

@ObjectType()
export class ServiceState {
  @Field()
  name: string;

  @Field(() => JSONScalar, { description: "values.yaml parsed." })
  values: Record<string, unknown>;

  @Field(() => [String], { description: "Paths of the service's files, relative to the repository root." })
  files: string[];
}
