import { AuditEvent } from "../../entities/audit-event.js";
import { Membership } from "../../entities/membership.js";
import { nodeTypeOf, type Node } from "../../entities/node.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import { Tenant } from "../../entities/tenant.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import { User } from "../../entities/user.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { AutoRollbackService } from "../automation/auto-rollback.js";
import type { FreezeService } from "../automation/freeze-windows.js";
import type { HoldService } from "../automation/holds.js";
import type { Database } from "../db/database.js";
import type { DeploymentQueries } from "../history/queries.js";
import type { WebhookService } from "../notifications/webhook-service.js";
import type { RollbackQueries } from "../rollback/queries.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";

/** `node(id)`: a global id to its object, for every type that implements Node. */
export class NodeFinder {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly deployments: DeploymentQueries,
    private readonly rollbacks: RollbackQueries,
    private readonly approvals: ApprovalService,
    private readonly holds: HoldService,
    private readonly autoRollback: AutoRollbackService,
    private readonly freezes: FreezeService,
    private readonly webhooks: WebhookService,
  ) {}

  /** The object when the caller may see it; null otherwise, the same answer as for an id that does not exist. */
  async find(actor: Actor, id: string): Promise<Node | null> {
    const m = this.db.manager;
    const visibleProject = async (projectId: string | undefined | null) => Boolean(projectId && (await this.access.projectById(actor, projectId)));
    switch (nodeTypeOf(id)) {
      case "User": {
        const user = await m.findOneBy(User, { id });
        if (!user) return null;
        if (actor.kind === "user" && actor.user.id === user.id) return user;
        const theirs = await m.findBy(Membership, { userId: user.id });
        for (const membership of theirs) if (await visibleProject(membership.projectId)) return user;
        return null;
      }
      case "Organization": {
        const org = await m.findOneBy(Organization, { id });
        if (!org) return null;
        const projects = await m.findBy(Project, { organizationId: org.id });
        for (const p of projects) if (await visibleProject(p.id)) return org;
        return null;
      }
      case "Project": {
        const project = await m.findOneBy(Project, { id });
        return project && (await visibleProject(project.id)) ? project : null;
      }
      case "Tenant": {
        const tenant = await m.findOneBy(Tenant, { id });
        return tenant && (await visibleProject(tenant.projectId)) ? tenant : null;
      }
      case "TenantEnvironment": {
        const te = await m.findOneBy(TenantEnvironment, { id });
        return te && (await visibleProject(te.projectId)) ? te : null;
      }
      case "Deployment": {
        const d = await this.deployments.byId(id);
        return d && (await visibleProject(d.projectId)) ? d : null;
      }
      case "RollbackRequest":
        return this.rollbacks.find(actor, id);
      case "BreakGlassSession": {
        const session = await this.approvals.sessionById(id);
        return session && (await visibleProject(session.projectId)) ? session : null;
      }
      case "AuditEvent": {
        const event = await m.findOne(AuditEvent, { where: { id }, relations: { actor: true } });
        return event && (await visibleProject(event.projectId)) ? event : null;
      }
      case "DeploymentHold":
        return this.holds.find(actor, id);
      case "AutoRollbackPolicy":
        return this.autoRollback.find(actor, id);
      case "FreezeWindow":
        return this.freezes.find(actor, id);
      case "Webhook":
      case "WebhookDelivery":
        return this.webhooks.findNode(actor, id);
      default:
        return null;
    }
  }
}
