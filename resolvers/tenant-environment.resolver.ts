import { Arg, Args, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { Deployment } from "../entities/deployment.js";
import { Tenant } from "../entities/tenant.js";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import type { Services } from "../src/app.js";
import { notFound } from "../src/errors.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { DeploymentConnection, toConnection } from "./types/connections.js";
import { HistoryArgs } from "./types/history-args.js";
import { Paging } from "./types/page-args.js";
import type { PageRequest } from "../src/services/paging.js";
import { ServiceState } from "./types/service-state.js";
import { SyncStatus } from "./types/sync-status.js";

@Resolver(() => TenantEnvironment)
export class TenantEnvironmentResolver {
  constructor(private readonly services: Services) {}

  @Query(() => TenantEnvironment, { nullable: true, description: "One tenant-environment; null when it does not exist or the caller has no role in the project." })
  async tenantEnvironment(
    @Arg("project", { description: "Slug of the project." }) project: string,
    @Arg("tenant", { description: "Slug of the tenant." }) tenant: string,
    @Arg("environment", { description: "Environment name." }) environment: string,
    @CurrentActor() actor: Actor,
  ): Promise<TenantEnvironment | null> {
    const access = await this.services.access.findProject(actor, project);
    if (!access) return null;
    return this.services.catalog.findTenantEnvironment(access.project, tenant, environment);
  }

  @FieldResolver(() => Tenant, { description: "The tenant." })
  async tenant(@Root() te: TenantEnvironment): Promise<Tenant> {
    const tenant = await this.services.catalog.tenant(te.tenantId);
    if (!tenant) throw notFound(`tenant of ${te.path} not found`);
    return tenant;
  }

  @FieldResolver(() => [ServiceState], { name: "services", description: "The services deployed here at the current revision, with their values." })
  serviceStates(@Root() te: TenantEnvironment): Promise<ServiceState[]> {
    return this.services.revisions.currentServices(te);
  }

  @FieldResolver(() => DeploymentConnection, { description: "Deployments of this tenant-environment, newest first." })
  async history(@Root() te: TenantEnvironment, @Args() args: HistoryArgs, @Paging() paging: PageRequest): Promise<DeploymentConnection> {
    return toConnection(await this.services.deploymentQueries.historyOf(te, { ...args, ...paging }));
  }

  @FieldResolver(() => Deployment, {
    nullable: true,
    description: "The newest deployment of this tenant-environment (its status shows whether the cluster runs it); null before the first.",
  })
  latestDeployment(@Root() te: TenantEnvironment): Promise<Deployment | null> {
    return te.currentRevision ? this.services.deploymentQueries.findByRevision(te, te.currentRevision) : Promise.resolve(null);
  }

  @FieldResolver(() => ApprovalPolicy, { description: "The approval policy of this environment." })
  approvalPolicy(@Root() te: TenantEnvironment): Promise<ApprovalPolicy> {
    return this.services.approvals.policy(te.projectId, te.environment);
  }

  @FieldResolver(() => SyncStatus, { description: "What the cluster agent last reported." })
  sync(@Root() te: TenantEnvironment): Promise<SyncStatus> {
    return this.services.sync.current(te);
  }
}
