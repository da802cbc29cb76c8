import { Field, InputType } from "type-graphql";
import { SyncState } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@InputType({ description: "One difference between what Git says and what runs in the cluster." })
export class DriftItemInput {
  @Field({ description: "Kind of the resource, e.g. Deployment." })
  kind: string;

  @Field({ description: "Name of the resource." })
  name: string;

  @Field(() => String, { nullable: true, description: "The drifted field, e.g. spec.replicas; null for the whole resource." })
  field?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "The value in Git." })
  desired?: unknown;

  @Field(() => JSONScalar, { nullable: true, description: "The value running in the cluster." })
  actual?: unknown;
}

@InputType({ description: "A cluster agent's report for one tenant-environment." })
export class SyncReportInput {
  @Field({ description: "Slug of the project." })
  project: string;

  @Field({ description: "Slug of the tenant." })
  tenant: string;

  @Field({ description: "Environment name." })
  environment: string;

  @Field({ description: "The commit sha the cluster runs." })
  revision: string;

  @Field(() => SyncState, { description: "Whether the cluster matches that revision." })
  state: SyncState;

  @Field(() => String, { nullable: true, description: "Health as the agent reports it, e.g. Healthy or Degraded; Degraded can trigger an automatic rollback." })
  health?: string | null;

  @Field(() => [DriftItemInput], { nullable: true, description: "Differences between Git and the cluster, at most 1000." })
  drift?: DriftItemInput[] | null;
}
