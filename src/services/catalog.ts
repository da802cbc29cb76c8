import type { EntityManager } from "typeorm";
import { ApprovalPolicy } from "../../entities/approval-policy.js";
import { AuditChainHead } from "../../entities/audit-event.js";
import { Plan } from "../../entities/enums.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import { Tenant } from "../../entities/tenant.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { badInput, notFound } from "../errors.js";
import { isSlug } from "../git/layout.js";
import { newId } from "../../entities/ids.js";
import { GENESIS_HASH } from "./audit.js";

export function assertSlug(kind: string, value: string): string {
  if (!isSlug(value)) throw badInput(`invalid ${kind} "${value}": use lowercase letters, digits and dashes`);
  return value;
}

/** Organizations, projects, tenants and tenant-environments: the structure everything else hangs on. */
export class Catalog {
  /** Tenant-environments are looked up on every read and rollback: fixed SQL instead of the query builder. */
  private readonly teRows: RowReader<TenantEnvironment>;
  private readonly teByName: string;
  private readonly teById: string;

  constructor(private readonly db: Database) {
    this.teRows = new RowReader(db.dataSource, TenantEnvironment, "te");
    const from = `SELECT ${this.teRows.select} FROM "tenant_environment" "te"`;
    this.teByName = `${from} WHERE "te"."projectId" = ${db.param(1)} AND "te"."tenantSlug" = ${db.param(2)} AND "te"."environment" = ${db.param(3)} LIMIT 1`;
    this.teById = `${from} WHERE "te"."id" = ${db.param(1)}`;
  }

  private async oneTenantEnvironment(sql: string, params: unknown[]): Promise<TenantEnvironment | null> {
    const rows: Record<string, unknown>[] = await this.db.read(sql, params);
    return rows[0] ? this.teRows.read(rows[0]) : null;
  }

  async organization(id: string): Promise<Organization> {
    return this.db.manager.findOneByOrFail(Organization, { id });
  }

  async ensureOrganization(slug: string, plan: Plan, features: string[], tx: EntityManager): Promise<Organization> {
    assertSlug("organization", slug);
    const existing = await tx.findOneBy(Organization, { slug });
    if (existing) {
      existing.plan = plan;
      existing.features = features;
      return tx.save(existing);
    }
    return tx.save(tx.create(Organization, { id: newId("Organization"), slug, plan, features }));
  }

  /** Creates a project with its tenants, environments and a zero-approval policy per environment. */
  async createProject(tx: EntityManager, input: { organization: Organization; slug: string; environments: string[]; tenants: string[] }): Promise<Project> {
    assertSlug("project", input.slug);
    input.environments.forEach((e) => assertSlug("environment", e));
    input.tenants.forEach((t) => assertSlug("tenant", t));
    if (await tx.findOneBy(Project, { slug: input.slug })) throw badInput(`project "${input.slug}" already exists`);
    const project = await tx.save(tx.create(Project, { id: newId("Project"), slug: input.slug, organizationId: input.organization.id, environments: input.environments }));
    await tx.insert(AuditChainHead, { projectId: project.id, seq: 0, hash: GENESIS_HASH });
    for (const env of input.environments) {
      await tx.insert(ApprovalPolicy, { id: newId("Policy"), projectId: project.id, environment: env, requiredApprovals: 0, allowSelfApproval: false });
    }
    for (const tenant of input.tenants) await this.ensureTenantEnvironments(tx, project, tenant);
    return project;
  }

  /** Registers a tenant and its environments (idempotent); used on creation and by reindex. */
  async ensureTenantEnvironments(tx: EntityManager, project: Project, tenantSlug: string, environments = project.environments): Promise<Tenant> {
    let tenant = await tx.findOneBy(Tenant, { projectId: project.id, slug: tenantSlug });
    if (!tenant) tenant = await tx.save(tx.create(Tenant, { id: newId("Tenant"), projectId: project.id, slug: tenantSlug }));
    for (const env of environments) {
      const exists = await tx.findOneBy(TenantEnvironment, { projectId: project.id, tenantSlug, environment: env });
      if (!exists) {
        await tx.insert(TenantEnvironment, {
          id: newId("TenantEnvironment"),
          projectId: project.id,
          tenantId: tenant.id,
          tenantSlug,
          environment: env,
          currentRevision: null,
          lastSeq: 0,
          syncRevision: null,
          syncHealth: null,
          lastReportAt: null,
          drift: null,
        });
      }
    }
    return tenant;
  }

  async projectSlugs(): Promise<string[]> {
    return (await this.db.manager.find(Project, { select: { slug: true }, order: { slug: "ASC" } })).map((p) => p.slug);
  }

  async tenants(projectId: string): Promise<Tenant[]> {
    return this.db.manager.find(Tenant, { where: { projectId }, order: { slug: "ASC" } });
  }

  async tenant(id: string): Promise<Tenant | null> {
    return this.db.manager.findOneBy(Tenant, { id });
  }

  async findProject(slug: string): Promise<Project | null> {
    return this.db.manager.findOneBy(Project, { slug });
  }

  async project(id: string): Promise<Project> {
    return this.db.manager.findOneByOrFail(Project, { id });
  }

  async environmentsOfTenant(tenant: Tenant, project: Project): Promise<TenantEnvironment[]> {
    const rows = await this.db.manager.find(TenantEnvironment, { where: { projectId: project.id, tenantId: tenant.id } });
    const order = new Map(project.environments.map((e, i) => [e, i]));
    return rows.sort((a, b) => (order.get(a.environment) ?? 99) - (order.get(b.environment) ?? 99));
  }

  async tenantEnvironmentById(id: string): Promise<TenantEnvironment | null> {
    return this.oneTenantEnvironment(this.teById, [id]);
  }

  /** The tenant-environment, or NOT_FOUND naming what is missing. */
  async tenantEnvironment(project: Project, tenant: string, environment: string): Promise<TenantEnvironment> {
    const te = await this.findTenantEnvironment(project, tenant, environment);
    if (te) return te;
    if (!(await this.db.manager.findOneBy(Tenant, { projectId: project.id, slug: tenant }))) {
      throw notFound(`tenant "${tenant}" not found in project "${project.slug}"`);
    }
    throw notFound(`environment "${environment}" not found for tenant "${tenant}" in project "${project.slug}"`);
  }

  async findTenantEnvironment(project: Project, tenant: string, environment: string): Promise<TenantEnvironment | null> {
    return this.oneTenantEnvironment(this.teByName, [project.id, tenant, environment]);
  }

  async allTenantEnvironments(projectId: string): Promise<TenantEnvironment[]> {
    return this.db.manager.find(TenantEnvironment, { where: { projectId } });
  }
}
