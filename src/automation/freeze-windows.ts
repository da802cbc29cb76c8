import { IsNull, LessThanOrEqual, MoreThan, type EntityManager } from "typeorm";
import { Role } from "../../entities/enums.js";
import { FreezeWindow } from "../../entities/freeze-window.js";
import type { Project } from "../../entities/project.js";
import { User } from "../../entities/user.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { AppError, badInput, notFound } from "../errors.js";
import { newId } from "../../entities/ids.js";
import type { AccessService } from "../services/access.js";
import { actorUser, type Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import { requiredText } from "./text.js";

const MAX_REASON = 500;
const MAX_DURATION_DAYS = 90;
const MAX_LEAD_DAYS = 366;
/** Open and upcoming windows per environment: enough for any change calendar, bounded for every query. */
const MAX_PENDING_PER_ENVIRONMENT = 50;
const DAY = 86_400_000;

export interface FreezeWindowInput {
  project: string;
  environment: string;
  startsAt: Date;
  endsAt: Date;
  reason: string;
  allowRollbacks?: boolean | null;
}

/** What passing a freeze took: nothing (no window open), the window's own allowance, or the caller's break-glass session. */
export type FreezePassage = { kind: "open" } | { kind: "allowed"; window: FreezeWindow } | { kind: "overridden"; window: FreezeWindow; breakGlassSessionId: string };

/**
 * Freeze windows (change freezes): while one is open, deploys to its environment are refused and
 * rollbacks go through only when it allows them; the caller's open break-glass session overrides
 * both, flagged in the audit trail.
 */
export class FreezeService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditTrail,
  ) {}

  // ---------------------------------------------------------------- queries

  /** Windows open at `activeAt`; without it, every window that has not ended yet. Deleted ones never. */
  async list(project: Project, activeAt?: Date | null): Promise<FreezeWindow[]> {
    const where = activeAt
      ? { projectId: project.id, deletedAt: IsNull(), startsAt: LessThanOrEqual(activeAt), endsAt: MoreThan(activeAt) }
      : { projectId: project.id, deletedAt: IsNull(), endsAt: MoreThan(new Date()) };
    return this.db.manager.find(FreezeWindow, {
      where,
      relations: { createdBy: true },
      order: { startsAt: "ASC", id: "ASC" },
      take: MAX_PENDING_PER_ENVIRONMENT * Math.max(1, project.environments.length),
    });
  }

  /**
   * The window open now in the environment that restricts most: one refusing rollbacks before
   * one allowing them, then the one ending last (the freeze lasts at least that long).
   */
  async active(projectId: string, environment: string, at = new Date(), tx: EntityManager = this.db.manager): Promise<FreezeWindow | null> {
    // Every rollback and deploy asks: one statement of fixed SQL, its creator joined.
    const r = this.readers;
    const when = r.time(at);
    const rows = await this.db.read(r.activeSql, [projectId, environment, when, when], tx);
    const open = rows.map((row) => {
      const window = r.window.read(row)!;
      const creator = r.creator.read(row);
      if (creator) window.createdBy = creator;
      return window;
    });
    open.sort((a, b) => Number(a.allowRollbacks) - Number(b.allowRollbacks) || b.endsAt.getTime() - a.endsAt.getTime());
    return open[0] ?? null;
  }

  private get readers() {
    if (this.rowReaders) return this.rowReaders;
    const ds = this.db.dataSource;
    const p = (n: number) => this.db.param(n);
    const window = new RowReader(ds, FreezeWindow, "fw");
    const creator = new RowReader(ds, User, "cb");
    const startsAt = ds.getMetadata(FreezeWindow).findColumnWithPropertyName("startsAt")!;
    this.rowReaders = {
      window,
      creator,
      activeSql:
        `SELECT ${window.select}, ${creator.select} FROM "freeze_window" "fw" LEFT JOIN "user" "cb" ON "cb"."id" = "fw"."createdById" ` +
        `WHERE "fw"."projectId" = ${p(1)} AND "fw"."environment" = ${p(2)} AND "fw"."deletedAt" IS NULL AND "fw"."startsAt" <= ${p(3)} AND "fw"."endsAt" > ${p(4)} ` +
        `ORDER BY "fw"."id" ASC LIMIT ${MAX_PENDING_PER_ENVIRONMENT}`,
      // The bound time in the form TypeORM stores the columns in (text on SQLite), so they compare.
      time: (at: Date) => ds.driver.preparePersistentValue(at, startsAt) as unknown,
    };
    return this.rowReaders;
  }

  private rowReaders: { window: RowReader<FreezeWindow>; creator: RowReader<User>; activeSql: string; time: (at: Date) => unknown } | null = null;

  async find(actor: Actor, id: string): Promise<FreezeWindow | null> {
    const window = await this.db.manager.findOne(FreezeWindow, { where: { id, deletedAt: IsNull() }, relations: { createdBy: true } });
    return window && (await this.access.projectById(actor, window.projectId)) ? window : null;
  }

  // ---------------------------------------------------------------- create, delete

  async create(actor: Actor, input: FreezeWindowInput): Promise<FreezeWindow> {
    const { project, user } = await this.access.project(actor, input.project, Role.ADMIN);
    if (!user) throw badInput("a freeze window needs a user to create it");
    if (!project.environments.includes(input.environment)) throw notFound(`environment "${input.environment}" not found in project "${project.slug}"`);
    const reason = requiredText("reason", input.reason, { max: MAX_REASON, hint: "say why the environment is frozen (it is shown to everyone refused)" });
    const { startsAt, endsAt } = input;
    const now = Date.now();
    if (endsAt.getTime() <= startsAt.getTime()) throw badInput(`endsAt (${endsAt.toISOString()}) must be after startsAt (${startsAt.toISOString()})`);
    if (endsAt.getTime() <= now) throw badInput(`endsAt (${endsAt.toISOString()}) is in the past: a freeze window must end in the future`);
    if (endsAt.getTime() - startsAt.getTime() > MAX_DURATION_DAYS * DAY) throw badInput(`a freeze window lasts at most ${MAX_DURATION_DAYS} days`);
    if (startsAt.getTime() - now > MAX_LEAD_DAYS * DAY) throw badInput(`a freeze window starts at most ${MAX_LEAD_DAYS} days ahead`);
    const allowRollbacks = input.allowRollbacks ?? true;
    return this.db.transaction(async (tx) => {
      const pending = await tx.countBy(FreezeWindow, { projectId: project.id, environment: input.environment, deletedAt: IsNull(), endsAt: MoreThan(new Date()) });
      if (pending >= MAX_PENDING_PER_ENVIRONMENT) {
        throw badInput(`environment "${input.environment}" already has ${pending} open or upcoming freeze windows (at most ${MAX_PENDING_PER_ENVIRONMENT}): delete some first`);
      }
      const window = tx.create(FreezeWindow, {
        id: newId("FreezeWindow"),
        projectId: project.id,
        environment: input.environment,
        startsAt,
        endsAt,
        reason,
        allowRollbacks,
        createdById: user.id,
        createdAt: new Date(),
        deletedAt: null,
      });
      await tx.insert(FreezeWindow, window);
      await this.audit.append(tx, {
        projectId: project.id,
        actor,
        action: "freeze.created",
        subjectId: window.id,
        details: { environment: window.environment, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), reason, allowRollbacks },
      });
      window.createdBy = user;
      return window;
    });
  }

  async delete(actor: Actor, id: string): Promise<FreezeWindow> {
    const window = await this.find(actor, id);
    if (!window) throw notFound(`freeze window "${id}" not found`);
    const { project } = (await this.access.projectById(actor, window.projectId))!;
    await this.access.project(actor, project.slug, Role.ADMIN);
    await this.db.transaction(async (tx) => {
      const res = await tx.createQueryBuilder().update(FreezeWindow).set({ deletedAt: new Date() }).where({ id, deletedAt: IsNull() }).execute();
      if (!res.affected) throw notFound(`freeze window "${id}" not found`);
      await this.audit.append(tx, {
        projectId: window.projectId,
        actor,
        action: "freeze.deleted",
        subjectId: id,
        details: { environment: window.environment, startsAt: window.startsAt.toISOString(), endsAt: window.endsAt.toISOString(), reason: window.reason },
      });
    });
    return window;
  }

  // ---------------------------------------------------------------- admission

  /** Deploys: refused while a window is open, unless the caller has an open break-glass session. */
  async admitDeploy(actor: Actor, projectId: string, environment: string): Promise<FreezePassage> {
    const window = await this.active(projectId, environment);
    if (!window) return { kind: "open" };
    return this.overrideOrRefuse(actor, projectId, window);
  }

  /** Rollbacks: go through a window that allows them; otherwise as deploys. */
  async admitRollback(actor: Actor, projectId: string, environment: string, tx: EntityManager): Promise<FreezePassage> {
    const window = await this.active(projectId, environment, new Date(), tx);
    if (!window) return { kind: "open" };
    if (window.allowRollbacks) return { kind: "allowed", window };
    return this.overrideOrRefuse(actor, projectId, window, tx);
  }

  /** The audit event of a passage through an open window, in the caller's transaction. */
  async recordPassage(tx: EntityManager, actor: Actor | null, projectId: string, passage: FreezePassage, subject: { id: string; kind: "deployment" | "rollback" }): Promise<void> {
    if (passage.kind === "open") return;
    const { window } = passage;
    await this.audit.append(tx, {
      projectId,
      actor,
      action: passage.kind === "overridden" ? "freeze.overridden" : "freeze.rollback_allowed",
      subjectId: subject.id,
      breakGlass: passage.kind === "overridden",
      details: {
        [subject.kind === "deployment" ? "deploymentId" : "rollbackRequestId"]: subject.id,
        freezeWindowId: window.id,
        environment: window.environment,
        endsAt: window.endsAt.toISOString(),
        reason: window.reason,
        ...(passage.kind === "overridden" ? { breakGlassSessionId: passage.breakGlassSessionId } : {}),
      },
    });
  }

  private async overrideOrRefuse(actor: Actor, projectId: string, window: FreezeWindow, tx?: EntityManager): Promise<FreezePassage> {
    const user = actorUser(actor);
    const session = user ? await this.approvals.activeSession(projectId, user.id, tx) : null;
    if (session) return { kind: "overridden", window, breakGlassSessionId: session.id };
    throw new AppError("FORBIDDEN", frozenMessage(window), { freezeWindowId: window.id, endsAt: window.endsAt.toISOString() });
  }
}

export function frozenMessage(window: FreezeWindow): string {
  return `environment ${window.environment} is frozen until ${window.endsAt.toISOString()}: ${window.reason}`;
}
