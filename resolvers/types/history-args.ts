import { ArgsType, Field, Int } from "type-graphql";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { BackwardPageArgs } from "./page-args.js";

/** Paging and filters of a deployment history (deploymentHistory and TenantEnvironment.history). */
@ArgsType()
export class HistoryArgs extends BackwardPageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: "Page size, 0 to 500." })
  first?: number;

  @Field(() => String, { nullable: true, description: "Cursor (an edge's cursor or pageInfo.endCursor) to continue after." })
  after?: string | null;

  @Field(() => DeploymentSource, { nullable: true, description: "Only deployments of this source." })
  source?: DeploymentSource | null;

  @Field(() => DeploymentStatus, { nullable: true, description: "Only deployments with this status." })
  status?: DeploymentStatus | null;
}
