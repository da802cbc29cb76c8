import { ArgsType, Field, Int } from "type-graphql";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { BackwardPageArgs } from "./page-args.js";

/** Paging and filters of a deployment history (deploymentHistory and TenantEnvironment.history). */
@ArgsType()
export class HistoryArgs extends BackwardPageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first?: number;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => DeploymentSource, { nullable: true })
  source?: DeploymentSource | null;

  @Field(() => DeploymentStatus, { nullable: true })
  status?: DeploymentStatus | null;
}
