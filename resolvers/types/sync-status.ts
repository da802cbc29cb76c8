import { Field, ObjectType } from "type-graphql";
import { AgentState, SyncState } from "../../entities/enums.js";
import { JSONScalar } from "../../entities/scalars.js";

@ObjectType()
export class DriftItem {
  @Field()
  kind: string;

  @Field()
  name: string;

  @Field(() => String, { nullable: true })
  field: string | null;

  @Field(() => JSONScalar, { nullable: true })
  desired: unknown;

  @Field(() => JSONScalar, { nullable: true })
  actual: unknown;
}

@ObjectType()
export class SyncStatus {
  @Field(() => String, { nullable: true, description: "Revision the agent last reported as applied." })
  revision: string | null;

  @Field(() => SyncState)
  state: SyncState;

  @Field(() => AgentState)
  agent: AgentState;

  @Field(() => Date, { nullable: true })
  lastReportAt: Date | null;

  @Field(() => String, { nullable: true })
  health: string | null;

  @Field(() => [DriftItem])
  drift: DriftItem[];

  @Field(() => String, { nullable: true, description: "Tenant of this status (set on subscription events)." })
  tenant?: string | null;

  @Field(() => String, { nullable: true, description: "Environment of this status (set on subscription events)." })
  environment?: string | null;

  /** The id and tenantEnvironment fields derive from it (sync.resolver.ts). */
  tenantEnvironmentId: string;
}
