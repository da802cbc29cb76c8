import { Field, InputType } from "type-graphql";
import { DeploymentSource } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@InputType()
export class DeployInput {
  @Field()
  project: string;

  @Field()
  tenant: string;

  @Field()
  environment: string;

  @Field(() => DeploymentSource, { nullable: true, defaultValue: DeploymentSource.RELEASE })
  source?: DeploymentSource | null;

  @Field()
  service: string;

  @Field(() => JSONScalar, { nullable: true, description: 'RELEASE: dotted field path -> new value, e.g. {"image.tag": "v2.1.0", "replicas": 3}.' })
  set?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: "PROMOTION: copy the service's files from this environment of the same tenant." })
  fromEnvironment?: string | null;

  @Field(() => String, { nullable: true })
  summary?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: "Deploy even though it re-introduces held values; requires holdOverrideJustification. Recorded in the audit trail.",
  })
  overrideHolds?: boolean | null;

  @Field(() => String, { nullable: true })
  holdOverrideJustification?: string | null;
}
