import { Field, InputType } from "type-graphql";
import { DeploymentSource } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@InputType({ description: "A release (new field values for one service) or a promotion (a service copied from another environment)." })
export class DeployInput {
  @Field({ description: "Slug of the project." })
  project: string;

  @Field({ description: "Slug of the tenant." })
  tenant: string;

  @Field({ description: "Environment to deploy to." })
  environment: string;

  @Field(() => DeploymentSource, {
    nullable: true,
    defaultValue: DeploymentSource.RELEASE,
    description: "RELEASE (with set) or PROMOTION (with fromEnvironment); ROLLBACK is refused here: use requestRollback.",
  })
  source?: DeploymentSource | null;

  @Field({ description: "The service to deploy." })
  service: string;

  @Field(() => JSONScalar, { nullable: true, description: 'RELEASE: dotted field path -> new value, e.g. {"image.tag": "v2.1.0", "replicas": 3}.' })
  set?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: "PROMOTION: copy the service's files from this environment of the same tenant." })
  fromEnvironment?: string | null;

  @Field(() => String, { nullable: true, description: "One-line summary for the commit; generated from the change when missing." })
  summary?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: "Deploy even though it re-introduces held values; requires holdOverrideJustification. Recorded in the audit trail.",
  })
  overrideHolds?: boolean | null;

  @Field(() => String, { nullable: true, description: "Why held values may return; required with overrideHolds." })
  holdOverrideJustification?: string | null;
}
