import type { EntityManager } from "typeorm";
import { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus } from "../../entities/enums.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { describeChanges, loadChangeSet, type FileChangeSet } from "../diff/comparison.js";
import type { ProjectRepository } from "../git/git-store.js";
import { tenantDir } from "../git/layout.js";
import { stableId } from "../../entities/ids.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import type { Events } from "../services/events.js";
import { gitPushOf } from "./git-push.js";

/** A commit to record as a deployment of one tenant-environment. */
export interface RecordInput {
  te: TenantEnvironment;
  revision: string;
  parentRevision: string | null;
  deployedAt: Date;
  author: User;
  summary: string;
  source: DeploymentSource;
  rollbackRequestId?: string | null;
  status?: DeploymentStatus;
  changes: Deployment["changes"];
  files: string[];
}

/**
 * Records commits as deployments: one row per tenant-environment a commit touched, its field
 * changes against the parent, the per-status counts, and the deploymentRecorded event.
 */
export class DeploymentRecorder {
  /** Every deploy and rollback records here: fixed SQL, so no statement pays for the query builder. */
  private readonly teRows: RowReader<TenantEnvironment>;
  private readonly deploymentRows: RowReader<Deployment>;
  private readonly authorRows: RowReader<User>;
  private readonly sql: { lockTe: string; existing: string; advanceTe: string; count: string };

  constructor(
    private readonly db: Database,
    private readonly audit: AuditTrail,
    private readonly events: Events,
  ) {
    this.teRows = new RowReader(db.dataSource, TenantEnvironment, "te");
    this.deploymentRows = new RowReader(db.dataSource, Deployment, "d");
    this.authorRows = new RowReader(db.dataSource, User, "author");
    const p = (n: number) => db.param(n);
    this.sql = {
      // The row lock orders concurrent recorders of one tenant-environment on PostgreSQL (SQLite transactions are serialized).
      lockTe: `SELECT ${this.teRows.select} FROM "tenant_environment" "te" WHERE "te"."id" = ${p(1)}${db.dialect === "postgres" ? " FOR UPDATE" : ""}`,
      existing: `SELECT ${this.deploymentRows.select}, ${this.authorRows.select} FROM "deployment" "d" LEFT JOIN "user" "author" ON "author"."id" = "d"."authorId" WHERE "d"."tenantEnvironmentId" = ${p(1)} AND "d"."revision" = ${p(2)}`,
      advanceTe: `UPDATE "tenant_environment" SET "lastSeq" = ${p(1)}, "currentRevision" = ${p(2)} WHERE "id" = ${p(3)}`,
      count: `INSERT INTO "deployment_count" ("tenantEnvironmentId", "source", "status", "count") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT ("tenantEnvironmentId", "source", "status") DO UPDATE SET "count" = "deployment_count"."count" + EXCLUDED."count"`,
    };
  }

  /** Records a commit the server just wrote as a deployment, in its own transaction, and publishes it. */
  async recordCommit(
    repo: ProjectRepository,
    actor: Actor | null,
    input: {
      te: TenantEnvironment;
      revision: string;
      author: User;
      source: DeploymentSource;
      summary: string;
      status?: DeploymentStatus;
      rollbackRequestId?: string | null;
      /** The commit's changes in the tenant-environment when the writer already has them (its plan), to skip reading them back. */
      known?: { parent: string | null; files: FileChangeSet[] };
    },
    inTransaction?: (tx: EntityManager, deployment: Deployment) => Promise<void>,
  ): Promise<Deployment> {
    const record = await this.describeCommit(repo, input.te, input.revision, input.known);
    const deployment = await this.db.transaction(async (tx) => {
      const saved = await this.record(tx, {
        te: input.te,
        revision: input.revision,
        parentRevision: record.parent,
        // Git's commit time, so a reindex gives the very same value.
        deployedAt: record.date,
        author: input.author,
        summary: input.summary,
        source: input.source,
        rollbackRequestId: input.rollbackRequestId ?? null,
        status: input.status,
        changes: record.changes,
        files: record.files,
      });
      if (actor && input.source !== DeploymentSource.ROLLBACK) {
        await this.audit.append(tx, {
          projectId: input.te.projectId,
          actor,
          action: "deployment.created",
          subjectId: saved.id,
          details: { tenant: input.te.tenantSlug, environment: input.te.environment, revision: input.revision, source: input.source, summary: input.summary },
        });
      }
      const events = this.events.inTransaction(tx);
      events.gitPushed(input.te.projectId, gitPushOf(repo.project, tenantDir(input.te.tenantSlug, input.te.environment), record.commit, record.changeSet));
      events.deploymentRecorded(input.te.tenantSlug, input.te.environment, saved);
      if (inTransaction) await inTransaction(tx, saved);
      return saved;
    });
    this.events.deploymentRecorded(input.te.tenantSlug, input.te.environment, deployment);
    return deployment;
  }

  /** Field changes and changed paths of a commit inside one tenant-environment, against its parent. */
  async describeCommit(repo: ProjectRepository, te: TenantEnvironment, revision: string, known?: { parent: string | null; files: FileChangeSet[] }) {
    const info = await repo.commitInfo(revision);
    const parent = info.parents[0] ?? null;
    const dir = tenantDir(te.tenantSlug, te.environment);
    const set = known && known.parent === parent ? known.files : await loadChangeSet(repo, dir, parent, revision);
    const described = describeChanges(dir, set, { patches: false });
    return {
      parent,
      date: info.date,
      changes: [...described.services.flatMap((s) => s.changes), ...described.environmentChanges],
      files: set.map((f) => f.path).sort(),
      commit: info,
      changeSet: set,
    };
  }

  /** Inserts the deployment row, advances the tenant-environment and the counts. Runs in the caller's transaction. */
  async record(tx: EntityManager, input: RecordInput): Promise<Deployment> {
    const teRows: Record<string, unknown>[] = await tx.query(this.sql.lockTe, [input.te.id]);
    const te = teRows[0] ? this.teRows.read(teRows[0]) : null;
    if (!te) throw new Error(`tenant-environment ${input.te.id} not found`);
    const found: Record<string, unknown>[] = await tx.query(this.sql.existing, [te.id, input.revision]);
    if (found[0]) {
      const existing = this.deploymentRows.read(found[0])!;
      existing.author = this.authorRows.read(found[0])!;
      return existing;
    }
    const seq = te.lastSeq + 1;
    const deployment = tx.create(Deployment, {
      id: stableId("Deployment", te.id, input.revision),
      projectId: te.projectId,
      tenantEnvironmentId: te.id,
      seq,
      revision: input.revision,
      parentRevision: input.parentRevision,
      deployedAt: input.deployedAt,
      authorId: input.author.id,
      summary: input.summary.slice(0, 500),
      changes: input.changes,
      files: input.files,
      source: input.source,
      status: input.status ?? DeploymentStatus.PENDING,
      rollbackRequestId: input.rollbackRequestId ?? null,
    });
    await this.deploymentRows.insert(tx, deployment);
    await tx.query(this.sql.advanceTe, [seq, input.revision, te.id]);
    input.te.lastSeq = seq;
    input.te.currentRevision = input.revision;
    await this.adjustCount(tx, te.id, deployment.source, deployment.status, 1);
    deployment.author = input.author;
    return deployment;
  }

  private async adjustCount(tx: EntityManager, teId: string, source: DeploymentSource, status: DeploymentStatus, delta: number): Promise<void> {
    await tx.query(this.sql.count, [teId, source, status, delta]);
  }

  /** Moves deployments to a new status, keeping the counts in step. */
  async setStatus(tx: EntityManager, deployments: Deployment[], status: DeploymentStatus): Promise<Deployment[]> {
    const changed = deployments.filter((d) => d.status !== status);
    // One count change per tenant-environment, source and status, however many deployments move.
    const deltas = new Map<string, { te: string; source: DeploymentSource; status: DeploymentStatus; delta: number }>();
    const add = (te: string, source: DeploymentSource, s: DeploymentStatus, delta: number) => {
      const key = `${te}\u0000${source}\u0000${s}`;
      const entry = deltas.get(key) ?? { te, source, status: s, delta: 0 };
      entry.delta += delta;
      deltas.set(key, entry);
    };
    for (const d of changed) {
      add(d.tenantEnvironmentId, d.source, d.status, -1);
      add(d.tenantEnvironmentId, d.source, status, 1);
      d.status = status;
    }
    for (const d of deltas.values()) if (d.delta !== 0) await this.adjustCount(tx, d.te, d.source, d.status, d.delta);
    if (changed.length > 0) {
      const p = (n: number) => this.db.param(n);
      await tx.query(`UPDATE "deployment" SET "status" = ${p(1)} WHERE "id" IN (${changed.map((_, i) => p(i + 2)).join(", ")})`, [status, ...changed.map((d) => d.id)]);
    }
    return changed;
  }
}
