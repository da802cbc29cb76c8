import { Arg, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { ApprovalPolicy } from "../entities/approval-policy.js";
import { BreakGlassSession } from "../entities/break-glass-session.js";
import { Role } from "../entities/enums.js";
import { Organization } from "../entities/organization.js";
import { Project } from "../entities/project.js";
import { Tenant } from "../entities/tenant.js";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import type { Services } from "../src/app.js";
import { modeAvailability } from "../src/rollback/gates.js";
import type { Actor } from "../src/services/actor.js";
import { CurrentActor } from "./context.js";
import { RollbackModeAvailability } from "./types/console-views.js";

@Resolver(() => Project)
export class ProjectResolver {
  constructor(private readonly services: Services) {}

  @Query(() => [Project], { description: "Projects the caller has a role in, by slug." })
  projects(@CurrentActor() actor: Actor): Promise<Project[]> {
    return this.services.access.projectsOf(this.services.access.requireUser(actor));
  }

  @Query(() => Project, { nullable: true, description: "A project by slug; null when it does not exist or the caller has no role in it." })
  async project(@Arg("slug", { description: "Slug of the project." }) slug: string, @CurrentActor() actor: Actor): Promise<Project | null> {
    return (await this.services.access.findProject(actor, slug))?.project ?? null;
  }

  @FieldResolver(() => Organization, { description: "The organization the project belongs to." })
  organization(@Root() project: Project): Promise<Organization> {
    return this.services.catalog.organization(project.organizationId);
  }

  @FieldResolver(() => [Tenant], { description: "Tenants of the project, by slug." })
  tenants(@Root() project: Project): Promise<Tenant[]> {
    return this.services.catalog.tenants(project.id);
  }

  @FieldResolver(() => [ApprovalPolicy], { description: "The approval policy of every environment of the project." })
  approvalPolicies(@Root() project: Project): Promise<ApprovalPolicy[]> {
    return this.services.approvals.policies(project);
  }

  @FieldResolver(() => BreakGlassSession, { nullable: true, description: "The caller's open break-glass session in this project, if any." })
  async activeBreakGlassSession(@Root() project: Project, @CurrentActor() actor: Actor): Promise<BreakGlassSession | null> {
    const user = this.services.access.requireUser(actor);
    return this.services.approvals.activeSession(project.id, user.id);
  }

  @FieldResolver(() => [RollbackModeAvailability], { description: "Every rollback mode with whether the organization's plan and feature flags allow it, and why not." })
  async rollbackModes(@Root() project: Project): Promise<RollbackModeAvailability[]> {
    return modeAvailability(await this.services.catalog.organization(project.organizationId));
  }

  @FieldResolver(() => Role, { description: "Role of the caller in this project." })
  async viewerRole(@Root() project: Project, @CurrentActor() actor: Actor): Promise<Role> {
    return (await this.services.access.project(actor, project.slug)).role;
  }
}

@Resolver(() => Tenant)
export class TenantResolver {
  constructor(private readonly services: Services) {}

  @FieldResolver(() => Project, { description: "The project the tenant belongs to." })
  project(@Root() tenant: Tenant): Promise<Project> {
    return this.services.catalog.project(tenant.projectId);
  }

  @FieldResolver(() => [TenantEnvironment], { description: "The tenant's environments." })
  async environments(@Root() tenant: Tenant): Promise<TenantEnvironment[]> {
    return this.services.catalog.environmentsOfTenant(tenant, await this.services.catalog.project(tenant.projectId));
  }
}
