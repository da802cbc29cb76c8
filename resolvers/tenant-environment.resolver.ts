import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Int, Query, Resolver, Root } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { DeploymentSource, DeploymentStatus } from "../entities/enums.js";
import { Tenant } from "../entities/tenant.js";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import type { Services } from "../src/app.js";
import { notFound } from "../src/errors.js";
import { requireActor, type RequestContext } from "./context.js";
import { DeploymentConnection, toConnection } from "./types/connections.js";
import { ServiceState } from "./types/service-state.js";
import { SyncStatus } from "./types/sync-status.js";

@ArgsType()
export class HistoryArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20 })
  first?: number;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => DeploymentSource, { nullable: true })
  source?: DeploymentSource | null;

  @Field(() => DeploymentStatus, { nullable: true })
  status?: DeploymentStatus | null;
}

@Resolver(() => TenantEnvironment)
export class TenantEnvironmentResolver {
  constructor(private readonly app: Services) {}

  @Query(() => TenantEnvironment, { nullable: true })
  async tenantEnvironment(
    @Arg("project") project: string,
    @Arg("tenant") tenant: string,
    @Arg("environment") environment: string,
    @Ctx() ctx: RequestContext,
  ): Promise<TenantEnvironment | null> {
    const access = await this.app.access.findProject(requireActor(ctx), project);
    if (!access) return null;
    return this.app.catalog.findTenantEnvironment(access.project, tenant, environment);
  }

  @FieldResolver(() => Tenant)
  async tenant(@Root() te: TenantEnvironment): Promise<Tenant> {
    const tenant = await this.app.catalog.tenant(te.tenantId);
    if (!tenant) throw notFound(`tenant of ${te.path} not found`);
    return tenant;
  }

  @FieldResolver(() => [ServiceState])
  services(@Root() te: TenantEnvironment): Promise<ServiceState[]> {
    return this.app.revisions.currentServices(te);
  }

  @FieldResolver(() => DeploymentConnection)
  async history(@Root() te: TenantEnvironment, @Args() args: HistoryArgs): Promise<DeploymentConnection> {
    return toConnection(await this.app.deploymentQueries.historyOf(te, args));
  }

  @FieldResolver(() => ApprovalPolicy)
  approvalPolicy(@Root() te: TenantEnvironment): Promise<ApprovalPolicy> {
    return this.app.approvals.policy(te.projectId, te.environment);
  }

  @FieldResolver(() => SyncStatus)
  sync(@Root() te: TenantEnvironment): Promise<SyncStatus> {
    return this.app.sync.current(te);
  }
}
