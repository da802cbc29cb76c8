import { In, IsNull, type EntityManager } from "typeorm";
import { Deployment } from "../../entities/deployment.js";
import { DeploymentHold } from "../../entities/deployment-hold.js";
import { DeploymentSource, DeploymentStatus, HoldReleaseKind, Role } from "../../entities/enums.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { Logger } from "pino";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { badInput, conflict, notFound } from "../errors.js";
import { newId } from "../../entities/ids.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { actorUser } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import { FieldReader, heldFieldKey, inRevertScope, reintroducedMessage, revertScopeOf, undoneValues, type HeldField } from "./hold-values.js";
import type { DeployAdmission, DeployAttempt } from "../history/deploy-guard.js";
import type { CompletedRollback } from "../rollback/guard.js";
import { requiredText } from "./text.js";
import { parseFieldSelector } from "../yaml/selectors.js";

/** The most holds one tenant-environment lists (newest first); active holds are few in practice. */
const MAX_LISTED = 200;
const MAX_JUSTIFICATION = 2000;

const HOLD_RELATIONS = { releasedBy: true } as const;

/**
 * Holds after rollback: a completed rollback holds every value it undid, so the next deploy
 * cannot quietly bring a broken value back (what auto-sync and image automation do to Argo CD
 * and Flux rollbacks). Deploys re-introducing a held value are refused unless overridden with a
 * justification; releases are explicit, or implied by a rollback to a revision holding the value.
 */
export class HoldService {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly audit: AuditTrail,
    private readonly logger: Logger,
  ) {}

  // ---------------------------------------------------------------- queries

  async ofTenantEnvironment(te: TenantEnvironment, activeOnly = true): Promise<DeploymentHold[]> {
    return this.db.manager.find(DeploymentHold, {
      where: { tenantEnvironmentId: te.id, ...(activeOnly ? { releasedAt: IsNull() } : {}) },
      relations: HOLD_RELATIONS,
      order: { createdAt: "DESC", id: "ASC" },
      take: MAX_LISTED,
    });
  }

  async ofRequest(requestId: string): Promise<DeploymentHold[]> {
    return this.db.manager.find(DeploymentHold, { where: { rollbackRequestId: requestId }, relations: HOLD_RELATIONS, order: { service: "ASC", field: "ASC" } });
  }

  /** The hold if the caller may see its project; null otherwise (as for an id that does not exist). */
  async find(actor: Actor, id: string): Promise<DeploymentHold | null> {
    const hold = await this.db.manager.findOne(DeploymentHold, { where: { id }, relations: HOLD_RELATIONS });
    return hold && (await this.access.projectById(actor, hold.projectId)) ? hold : null;
  }

  // ---------------------------------------------------------------- release by hand

  async release(actor: Actor, id: string, justification: string): Promise<DeploymentHold> {
    const user = this.access.requireUser(actor);
    const hold = await this.db.manager.findOne(DeploymentHold, { where: { id }, relations: HOLD_RELATIONS });
    const visible = hold ? await this.access.projectById(actor, hold.projectId) : null;
    if (!hold || !visible) throw notFound(`deployment hold "${id}" not found`);
    await this.access.project(actor, visible.project.slug, Role.APPROVER);
    const reason = requiredText("justification", justification, { max: MAX_JUSTIFICATION, multiline: true, hint: "explain why the held value may come back" });
    if (hold.releasedAt) return hold;
    await this.db.transaction(async (tx) => {
      if (await this.markReleased(tx, [hold.id], HoldReleaseKind.MANUAL, user.id, reason)) {
        await this.audit.append(tx, {
          projectId: hold.projectId,
          actor,
          action: "hold.released",
          subjectId: hold.id,
          details: { via: "manual", justification: reason, ...heldValueOf(hold) },
        });
      }
    });
    return (await this.find(actor, id))!;
  }

  // ---------------------------------------------------------------- deploys

  /** Refuses a deploy that writes a held value back (CONFLICT), or with overrideHolds releases those holds when it is recorded. */
  async admitDeploy(attempt: DeployAttempt): Promise<DeployAdmission> {
    const justification = overrideJustification(attempt.overrideHolds, attempt.holdOverrideJustification);
    const reintroduced = await this.reintroducedBy(attempt);
    if (reintroduced.length === 0) return { trailers: [] };
    if (!justification) {
      throw conflict(reintroducedMessage(reintroduced.map((h) => ({ ...h, value: h.heldValue }))), {
        holds: reintroduced.map((h) => ({ id: h.id, rollbackRequestId: h.rollbackRequestId, ...heldValueOf(h) })),
        hint: "deploy with overrideHolds: true and a holdOverrideJustification, or release the holds (releaseDeploymentHold)",
      });
    }
    const ids = reintroduced.map((h) => h.id);
    return {
      trailers: [`Hold-Override: ${ids.join(", ")}`, `Hold-Override-Justification: ${justification.replace(/\s*\r?\n\s*/g, " ")}`],
      record: async (tx, deployment) => {
        const user = actorUser(attempt.actor);
        await this.markReleased(tx, ids, HoldReleaseKind.DEPLOY_OVERRIDE, user?.id ?? null, justification);
        await this.audit.append(tx, {
          projectId: attempt.project.id,
          actor: attempt.actor,
          action: "hold.overridden",
          subjectId: deployment.id,
          details: {
            tenant: attempt.te.tenantSlug,
            environment: attempt.te.environment,
            revision: deployment.revision,
            justification,
            holds: reintroduced.map((h) => ({ id: h.id, rollbackRequestId: h.rollbackRequestId, ...heldValueOf(h) })),
          },
        });
      },
    };
  }

  /** Active holds of the service whose value the deploy would write back (it is not there now, and would be after). */
  private async reintroducedBy(attempt: DeployAttempt): Promise<DeploymentHold[]> {
    const holds = await this.db.manager.find(DeploymentHold, {
      where: { tenantEnvironmentId: attempt.te.id, service: attempt.service, releasedAt: IsNull() },
      order: { createdAt: "ASC", field: "ASC", id: "ASC" },
    });
    if (holds.length === 0) return [];
    const { tenantSlug: tenant, environment } = attempt.te;
    const before = FieldReader.atRevision(attempt.repo, attempt.head);
    const after = FieldReader.afterWrites(attempt.repo, attempt.head, attempt.writes);
    const out: DeploymentHold[] = [];
    for (const hold of holds) {
      const held = { service: hold.service, field: hold.field, value: hold.heldValue };
      if ((await after.holds(tenant, environment, held)) && !(await before.holds(tenant, environment, held))) out.push(hold);
    }
    return out;
  }

  // ---------------------------------------------------------------- rollbacks

  /**
   * What a completed rollback holds and releases. Holds: every value that the deployments it
   * reverted (newer than its target, in its scope, not rolled back before) put in place and that
   * the rollback commit no longer has. Releases: active holds in its scope whose value the
   * rollback commit has (the operator chose a revision with it). Git is read here, before the
   * recording transaction; the returned function writes in it.
   */
  async prepareCompletion(rollback: CompletedRollback): Promise<(tx: EntityManager, actor: Actor | null) => Promise<void>> {
    try {
      return await this.planCompletion(rollback);
    } catch (err) {
      // Getting back to a known-good state matters more than the holds: record the rollback, and say what is missing.
      this.logger.error({ err, requestId: rollback.request.id }, "could not compute the holds of a completed rollback");
      const details = { reason: "the values this rollback undid could not be computed, so none is held (details in the server log)" };
      return async (tx, actor) => {
        await this.audit.append(tx, { projectId: rollback.request.projectId, actor, action: "hold.failed", subjectId: rollback.request.id, details });
      };
    }
  }

  private async planCompletion(rollback: CompletedRollback): Promise<(tx: EntityManager, actor: Actor | null) => Promise<void>> {
    const { repo, request, te, target, sha } = rollback;
    const scope = revertScopeOf(request);
    const after = FieldReader.atRevision(repo, sha);
    const r = this.readers;
    const revertedRows = await this.db.read(r.revertedSql, [te.id, target.seq, DeploymentSource.ROLLBACK, DeploymentStatus.ROLLED_BACK]);
    const reverted = revertedRows.map((row) => r.deployment.read(row)!);
    const activeRows = await this.db.read(r.activeSql, [te.id]);
    const active = activeRows.map((row) => r.hold.read(row)!);
    const activeKeys = new Set(active.map((h) => heldFieldKey({ service: h.service, field: h.field, value: h.heldValue })));

    const toHold: HeldField[] = [];
    for (const held of undoneValues(
      reverted.flatMap((d) => d.changes),
      scope,
    )) {
      if (activeKeys.has(heldFieldKey(held)) || (await after.holds(te.tenantSlug, te.environment, held))) continue;
      toHold.push(held);
    }
    const toRelease: DeploymentHold[] = [];
    for (const hold of active) {
      const sel = parseFieldSelector(hold.field);
      if (!inRevertScope(scope, hold.service, sel.fileName, sel.segments.join("."))) continue;
      if (await after.holds(te.tenantSlug, te.environment, { service: hold.service, field: hold.field, value: hold.heldValue })) toRelease.push(hold);
    }
    if (toHold.length === 0 && toRelease.length === 0) return async () => undefined;

    return async (tx, actor) => {
      const now = new Date();
      for (const hold of toRelease) {
        if (!(await this.markReleased(tx, [hold.id], HoldReleaseKind.ROLLBACK, request.requestedById, request.justification))) continue;
        await this.audit.append(tx, {
          projectId: request.projectId,
          actor,
          action: "hold.released",
          subjectId: hold.id,
          breakGlass: request.breakGlass,
          details: { via: "rollback", rollbackRequestId: request.id, commitSha: sha, ...heldValueOf(hold) },
        });
      }
      if (toHold.length === 0) return;
      const rows = toHold.map((held) =>
        tx.create(DeploymentHold, {
          id: newId("DeploymentHold"),
          projectId: request.projectId,
          tenantEnvironmentId: te.id,
          tenant: te.tenantSlug,
          environment: te.environment,
          service: held.service,
          field: held.field,
          heldValue: held.value ?? null,
          rollbackRequestId: request.id,
          createdAt: now,
          releasedAt: null,
          releasedById: null,
          releaseJustification: null,
          releaseKind: null,
        }),
      );
      // Chunked: one statement per hundred holds keeps every dialect's bind-parameter limit far away.
      for (let i = 0; i < rows.length; i += 100) {
        await tx
          .createQueryBuilder()
          .insert()
          .into(DeploymentHold)
          .values(rows.slice(i, i + 100) as never)
          .updateEntity(false)
          .execute();
      }
      await this.audit.append(tx, {
        projectId: request.projectId,
        actor,
        action: "hold.created",
        subjectId: request.id,
        breakGlass: request.breakGlass,
        details: { tenant: te.tenantSlug, environment: te.environment, commitSha: sha, holds: rows.map((h) => ({ id: h.id, ...heldValueOf(h) })) },
      });
    };
  }

  /** Every completed rollback reads what it reverted and the active holds: fixed SQL (see RowReader). */
  private get readers() {
    if (this.rowReaders) return this.rowReaders;
    const ds = this.db.dataSource;
    const p = (n: number) => this.db.param(n);
    // Only the changes of a reverted deployment matter here, never its file list. The conditions
    // (and so the order rows come in) are those of the repository queries these replaced.
    const deployment = new RowReader(ds, Deployment, "d", ["files"]);
    const hold = new RowReader(ds, DeploymentHold, "h");
    this.rowReaders = {
      deployment,
      hold,
      revertedSql: `SELECT ${deployment.select} FROM "deployment" "d" WHERE "d"."tenantEnvironmentId" = ${p(1)} AND "d"."seq" > ${p(2)} AND "d"."source" <> ${p(3)} AND "d"."status" <> ${p(4)}`,
      activeSql: `SELECT ${hold.select} FROM "deployment_hold" "h" WHERE "h"."tenantEnvironmentId" = ${p(1)} AND "h"."releasedAt" IS NULL`,
    };
    return this.rowReaders;
  }

  private rowReaders: { deployment: RowReader<Deployment>; hold: RowReader<DeploymentHold>; revertedSql: string; activeSql: string } | null = null;

  /** Releases the holds still active among `ids`; false when none was (someone released them first). */
  private async markReleased(tx: EntityManager, ids: string[], kind: HoldReleaseKind, userId: string | null, justification: string): Promise<boolean> {
    const res = await tx
      .createQueryBuilder()
      .update(DeploymentHold)
      .set({ releasedAt: new Date(), releasedById: userId, releaseJustification: justification, releaseKind: kind })
      .where({ id: In(ids), releasedAt: IsNull() })
      .execute();
    return (res.affected ?? 0) > 0;
  }
}

function heldValueOf(h: Pick<DeploymentHold, "service" | "field" | "heldValue">): { service: string; field: string; value: unknown } {
  return { service: h.service, field: h.field, value: h.heldValue ?? null };
}

/** The override's justification: required with overrideHolds, refused without it (a reason for nothing is a mistaken call). */
function overrideJustification(overrideHolds: boolean, justification: string | null): string | null {
  if (overrideHolds) {
    return requiredText("holdOverrideJustification", justification, {
      max: MAX_JUSTIFICATION,
      multiline: true,
      hint: "overrideHolds needs a reason, recorded in the commit and the audit trail",
    });
  }
  if (justification !== null && justification.trim() !== "") throw badInput("holdOverrideJustification applies only with overrideHolds: true");
  return null;
}
