import type { EntityManager } from "typeorm";
import { IsNull } from "typeorm";
import { ApprovalPolicy } from "../../entities/approval-policy.js";
import { BreakGlassSession } from "../../entities/break-glass-session.js";
import { Role } from "../../entities/enums.js";
import { Feature, type Organization } from "../../entities/organization.js";
import type { Project } from "../../entities/project.js";
import { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { badInput, conflict, forbidden, notFound } from "../errors.js";
import { newId } from "../../entities/ids.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";

export const MAX_REQUIRED_APPROVALS = 10;

export interface ApprovalDecision {
  /** The environment's policy asks for approval and the organization has rollback_approval. */
  approvalRequired: boolean;
  requiredApprovals: number;
  allowSelfApproval: boolean;
  /** The caller's open break-glass session in the project, if any. */
  breakGlassSession: BreakGlassSession | null;
}

/** Approval policies per environment and break-glass sessions: the project approval flow. */
export class ApprovalService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly audit: AuditTrail,
    private readonly maxBreakGlassMinutes: number,
  ) {}

  async policy(projectId: string, environment: string, tx: EntityManager = this.db.manager): Promise<ApprovalPolicy> {
    const r = this.readers;
    const rows = await this.db.read(r.policySql, [projectId, environment], tx);
    const found = rows[0] ? r.policy.read(rows[0]) : null;
    return found ?? tx.create(ApprovalPolicy, { id: "", projectId, environment, requiredApprovals: 0, allowSelfApproval: false });
  }

  /** Every request and review asks for the policy and the caller's session: fixed SQL (see RowReader). */
  private get readers() {
    if (this.rowReaders) return this.rowReaders;
    const ds = this.db.dataSource;
    const p = (n: number) => this.db.param(n);
    const policy = new RowReader(ds, ApprovalPolicy, "ap");
    const session = new RowReader(ds, BreakGlassSession, "s");
    const user = new RowReader(ds, User, "user");
    const expiresAt = ds.getMetadata(BreakGlassSession).findColumnWithPropertyName("expiresAt")!;
    this.rowReaders = {
      policy,
      policySql: `SELECT ${policy.select} FROM "approval_policy" "ap" WHERE "ap"."projectId" = ${p(1)} AND "ap"."environment" = ${p(2)} LIMIT 1`,
      session,
      user,
      sessionSql:
        `SELECT ${session.select}, ${user.select} FROM "break_glass_session" "s" LEFT JOIN "user" "user" ON "user"."id" = "s"."userId" ` +
        `WHERE "s"."projectId" = ${p(1)} AND "s"."userId" = ${p(2)} AND "s"."closedAt" IS NULL AND "s"."expiresAt" > ${p(3)} ORDER BY "s"."openedAt" DESC LIMIT 1`,
      // The bound time in the form TypeORM stores the column in (text on SQLite), so they compare.
      time: (at: Date) => ds.driver.preparePersistentValue(at, expiresAt) as unknown,
    };
    return this.rowReaders;
  }

  private rowReaders: {
    policy: RowReader<ApprovalPolicy>;
    policySql: string;
    session: RowReader<BreakGlassSession>;
    user: RowReader<User>;
    sessionSql: string;
    time: (at: Date) => unknown;
  } | null = null;

  async policies(project: Project): Promise<ApprovalPolicy[]> {
    const rows = await this.db.manager.find(ApprovalPolicy, { where: { projectId: project.id } });
    const byEnv = new Map(rows.map((r) => [r.environment, r]));
    return Promise.all(project.environments.map(async (env) => byEnv.get(env) ?? (await this.policy(project.id, env))));
  }

  async decide(org: Organization, project: Project, environment: string, user: User | null): Promise<ApprovalDecision> {
    const policy = await this.policy(project.id, environment);
    // Without the rollback_approval flag no environment asks for approval, whatever its policy says.
    const required = org.features.includes(Feature.ROLLBACK_APPROVAL) && policy.requiredApprovals > 0;
    return {
      approvalRequired: required,
      requiredApprovals: required ? policy.requiredApprovals : 0,
      allowSelfApproval: policy.allowSelfApproval,
      breakGlassSession: user ? await this.activeSession(project.id, user.id) : null,
    };
  }

  async setPolicy(actor: Actor, projectSlug: string, environment: string, requiredApprovals: number, allowSelfApproval: boolean): Promise<ApprovalPolicy> {
    const { project, user } = await this.access.project(actor, projectSlug, Role.ADMIN);
    if (!project.environments.includes(environment)) throw notFound(`environment "${environment}" not found in project "${project.slug}"`);
    if (!Number.isInteger(requiredApprovals) || requiredApprovals < 0 || requiredApprovals > MAX_REQUIRED_APPROVALS) {
      throw badInput(`requiredApprovals must be between 0 and ${MAX_REQUIRED_APPROVALS}, got ${requiredApprovals}`);
    }
    const session = user ? await this.activeSession(project.id, user.id) : null;
    return this.db.transaction(async (tx) => {
      const before = await this.policy(project.id, environment, tx);
      // tx.merge mutates `before`; keep what it said for the audit event's "before".
      const previous = before.id
        ? { requiredApprovals: before.requiredApprovals, allowSelfApproval: before.allowSelfApproval }
        : { requiredApprovals: 0, allowSelfApproval: false };
      const policy = tx.merge(ApprovalPolicy, before, { requiredApprovals, allowSelfApproval });
      if (!policy.id) policy.id = newId("Policy");
      await tx.save(policy);
      await this.audit.append(tx, {
        projectId: project.id,
        actor,
        action: "policy.changed",
        subjectId: environment,
        breakGlass: Boolean(session),
        details: {
          environment,
          before: previous,
          after: { requiredApprovals, allowSelfApproval },
          ...(session ? { breakGlassSessionId: session.id } : {}),
        },
      });
      return policy;
    });
  }

  /** The user's open, unexpired session in the project. */
  async activeSession(projectId: string, userId: string, tx: EntityManager = this.db.manager): Promise<BreakGlassSession | null> {
    // One statement with its user joined (findOne with a relation costs TypeORM a second query).
    const r = this.readers;
    const rows = await this.db.read(r.sessionSql, [projectId, userId, r.time(new Date())], tx);
    const session = rows[0] ? r.session.read(rows[0]) : null;
    const user = session ? r.user.read(rows[0]!) : null;
    if (session && user) session.user = user;
    return session;
  }

  async openBreakGlass(actor: Actor, projectSlug: string, justification: string, durationMinutes: number | null | undefined): Promise<BreakGlassSession> {
    const { project, user } = await this.access.project(actor, projectSlug, Role.DEPLOYER);
    if (!user) throw badInput("a break-glass session belongs to a user");
    const reason = justification?.trim() ?? "";
    if (reason === "") throw badInput("justification is required to open a break-glass session");
    const minutes = durationMinutes ?? 60;
    if (!Number.isInteger(minutes) || minutes < 1) throw badInput(`durationMinutes must be a whole number of at least 1, got ${minutes}`);
    // Longer requests are capped, not refused: in an incident the session matters more than its length.
    const granted = Math.min(minutes, this.maxBreakGlassMinutes);
    return this.db.transaction(async (tx) => {
      const open = await this.activeSession(project.id, user.id, tx);
      if (open) throw conflict(`you already have an open break-glass session ${open.id} in "${project.slug}" until ${open.expiresAt.toISOString()}: close it first`);
      const now = new Date();
      const session = tx.create(BreakGlassSession, {
        id: newId("BreakGlassSession"),
        projectId: project.id,
        userId: user.id,
        justification: reason,
        openedAt: now,
        expiresAt: new Date(now.getTime() + granted * 60_000),
        closedAt: null,
      });
      await tx.insert(BreakGlassSession, session);
      await this.audit.append(tx, {
        projectId: project.id,
        actor,
        action: "breakglass.opened",
        subjectId: session.id,
        breakGlass: true,
        details: { justification: reason, requestedMinutes: minutes, grantedMinutes: granted, expiresAt: session.expiresAt.toISOString() },
      });
      session.user = user;
      return session;
    });
  }

  async closeBreakGlass(actor: Actor, sessionId: string): Promise<BreakGlassSession> {
    const user = this.access.requireUser(actor);
    const existing = await this.db.manager.findOne(BreakGlassSession, { where: { id: sessionId }, relations: { user: true } });
    const access = existing ? await this.access.projectById(actor, existing.projectId) : null;
    if (!existing || !access) throw notFound(`break-glass session "${sessionId}" not found`);
    if (existing.userId !== user.id && access.role !== Role.ADMIN) throw forbidden("only the session's owner or an ADMIN can close a break-glass session");
    if (existing.closedAt) return existing;
    return this.db.transaction(async (tx) => {
      const now = new Date();
      const expired = existing.expiresAt.getTime() <= now.getTime();
      existing.closedAt = expired ? existing.expiresAt : now;
      await tx.update(BreakGlassSession, { id: existing.id }, { closedAt: existing.closedAt });
      await this.audit.append(tx, {
        projectId: existing.projectId,
        actor,
        action: expired ? "breakglass.expired" : "breakglass.closed",
        subjectId: existing.id,
        breakGlass: true,
        details: { openedAt: existing.openedAt.toISOString(), closedAt: existing.closedAt.toISOString() },
      });
      return existing;
    });
  }

  /** Closes sessions whose time ran out, so the audit trail records each expiry. */
  async expireSessions(): Promise<number> {
    const due = await this.db.manager.createQueryBuilder(BreakGlassSession, "s").where("s.closedAt IS NULL").andWhere("s.expiresAt <= :now", { now: new Date() }).getMany();
    for (const session of due) {
      await this.db.transaction(async (tx) => {
        const res = await tx.createQueryBuilder().update(BreakGlassSession).set({ closedAt: session.expiresAt }).where({ id: session.id, closedAt: IsNull() }).execute();
        if (!res.affected) return;
        await this.audit.append(tx, {
          projectId: session.projectId,
          actor: null,
          action: "breakglass.expired",
          subjectId: session.id,
          breakGlass: true,
          details: { userId: session.userId, expiresAt: session.expiresAt.toISOString() },
        });
      });
    }
    return due.length;
  }

  async sessionById(id: string): Promise<BreakGlassSession | null> {
    return this.db.manager.findOne(BreakGlassSession, { where: { id }, relations: { user: true } });
  }
}
