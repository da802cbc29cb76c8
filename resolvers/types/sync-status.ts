import { Field, ObjectType } from "type-graphql";
import { AgentState, SyncState } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@ObjectType({ description: "One difference between what Git says and what runs in the cluster." })
export class DriftItem {
  @Field({ description: "Kind of the resource, e.g. Deployment." })
  kind: string;

  @Field({ description: "Name of the resource." })
  name: string;

  @Field(() => String, { nullable: true, description: "The drifted field, e.g. spec.replicas; null for the whole resource." })
  field: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "The value in Git." })
  desired: unknown;

  @Field(() => JSONScalar, { nullable: true, description: "The value running in the cluster." })
  actual: unknown;
}

@ObjectType({ description: "What a tenant-environment's cluster agent last reported, as a dashboard should read it." })
export class SyncStatus {
  @Field(() => String, { nullable: true, description: "Revision the agent last reported as applied." })
  revision: string | null;

  @Field(() => SyncState, { description: "Whether the cluster runs the newest deployment: PENDING while it catches up." })
  state: SyncState;

  @Field(() => AgentState, { description: "Whether the agent reports: NEVER_SEEN, CONNECTED, or UNREACHABLE when its reports stopped." })
  agent: AgentState;

  @Field(() => Date, { nullable: true, description: "When the agent last reported; null before the first report." })
  lastReportAt: Date | null;

  @Field(() => String, { nullable: true, description: "Health as the agent reported it, e.g. Healthy or Degraded." })
  health: string | null;

  @Field(() => [DriftItem], { description: "Differences between Git and the cluster in the last report." })
  drift: DriftItem[];

  @Field(() => String, { nullable: true, description: "Tenant of this status (set on subscription events)." })
  tenant?: string | null;

  @Field(() => String, { nullable: true, description: "Environment of this status (set on subscription events)." })
  environment?: string | null;

  /** The id and tenantEnvironment fields derive from it (sync.resolver.ts). */
  tenantEnvironmentId: string;
}
