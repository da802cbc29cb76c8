import { Role, roleAtLeast } from "../../entities/enums.js";
import { Membership } from "../../entities/membership.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import type { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { forbidden, notFound, unauthenticated } from "../errors.js";
import type { Actor } from "./actor.js";

export interface ProjectAccess {
  project: Project;
  organization: Organization;
  /** The caller's role; ADMIN for local operators. */
  role: Role;
  /** The calling user, or null for an agent. */
  user: User | null;
}

const ACTION_BY_ROLE: Record<Role, string> = {
  VIEWER: "read",
  DEPLOYER: "deploy or request rollbacks",
  APPROVER: "review rollback requests",
  ADMIN: "administer",
};

/** Why the caller's role is too low for `minimum` in the project (the FORBIDDEN message), or null. */
export function roleRefusal(access: ProjectAccess, minimum: Role): string | null {
  if (roleAtLeast(access.role, minimum)) return null;
  return `role ${access.role} cannot ${ACTION_BY_ROLE[minimum]} in project "${access.project.slug}": ${minimum} or higher is required`;
}

/**
 * Decides who may see and do what in a project. A project the caller has no role in does not
 * exist for them: NOT_FOUND, never FORBIDDEN, so other organizations' projects do not leak.
 */
export class AccessService {
  private readonly projectRows: RowReader<Project>;
  private readonly organizationRows: RowReader<Organization>;
  /** The project by slug, its organization and the caller's membership: one statement on every access check. */
  private readonly accessSql: string;

  constructor(private readonly db: Database) {
    this.projectRows = new RowReader(db.dataSource, Project, "p");
    this.organizationRows = new RowReader(db.dataSource, Organization, "o");
    this.accessSql =
      `SELECT ${this.projectRows.select}, ${this.organizationRows.select}, "m"."role" AS "m_role" FROM "project" "p" ` +
      `LEFT JOIN "organization" "o" ON "o"."id" = "p"."organizationId" ` +
      `LEFT JOIN "membership" "m" ON "m"."projectId" = "p"."id" AND "m"."userId" = ${db.param(1)} WHERE "p"."slug" = ${db.param(2)}`;
  }

  requireUser(actor: Actor | null): User {
    if (!actor) throw unauthenticated();
    if (actor.kind === "agent") throw forbidden("agent tokens can only call reportSyncStatus");
    if (!actor.user) throw unauthenticated("this operation needs a user");
    return actor.user;
  }

  async project(actor: Actor | null, slug: string, minimum: Role = Role.VIEWER): Promise<ProjectAccess> {
    const access = await this.findProject(actor, slug);
    if (!access) throw notFound(`project "${slug}" not found`);
    const refusal = roleRefusal(access, minimum);
    if (refusal) throw forbidden(refusal);
    return access;
  }

  async projectById(actor: Actor | null, projectId: string, minimum: Role = Role.VIEWER): Promise<ProjectAccess | null> {
    const project = await this.db.manager.findOneBy(Project, { id: projectId });
    if (!project) return null;
    const access = await this.findProject(actor, project.slug);
    if (!access || !roleAtLeast(access.role, minimum)) return null;
    return access;
  }

  /** The caller's access to a project, or null when it does not exist for them. Agents are refused outright. */
  async findProject(actor: Actor | null, slug: string): Promise<ProjectAccess | null> {
    if (!actor) throw unauthenticated();
    if (actor.kind === "agent") throw forbidden("agent tokens can only call reportSyncStatus");
    const rows: Record<string, unknown>[] = await this.db.read(this.accessSql, [actor.kind === "system" ? null : actor.user.id, slug]);
    const row = rows[0];
    const project = row ? this.projectRows.read(row) : null;
    if (!row || !project) return null;
    let role: Role;
    if (actor.kind === "system") {
      role = Role.ADMIN;
    } else {
      if (row.m_role === null || row.m_role === undefined) return null;
      role = row.m_role as Role;
    }
    const organization = this.organizationRows.read(row);
    if (!organization) throw new Error(`organization ${project.organizationId} of project "${slug}" not found`);
    return { project, organization, role, user: actor.user };
  }

  /** A project whose events the caller may hear: any role for users; for an agent token, its own project only. */
  async projectForEvents(actor: Actor | null, slug: string): Promise<Project> {
    if (actor?.kind !== "agent") return (await this.project(actor, slug)).project;
    const project = await this.db.manager.findOneBy(Project, { slug });
    if (!project || project.id !== actor.projectId) throw notFound(`project "${slug}" not found`);
    return project;
  }

  /** Projects the user has a role in. */
  async projectsOf(user: User): Promise<Project[]> {
    return this.db.manager
      .createQueryBuilder(Project, "p")
      .innerJoin(Membership, "m", "m.projectId = p.id AND m.userId = :userId", { userId: user.id })
      .orderBy("p.slug")
      .getMany();
  }
}
