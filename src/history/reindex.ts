import { In } from "typeorm";
import { Deployment, DeploymentCount } from "../../entities/deployment.js";
import { DeploymentStatus } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { notFound } from "../errors.js";
import type { GitStore } from "../git/git-store.js";
import type { AuthService } from "../services/auth.js";
import type { Catalog } from "../services/catalog.js";
import { parseDeploymentCommit } from "./commit-message.js";
import type { DeploymentRecorder } from "./recorder.js";
import { rolledBackBy } from "./rolled-back.js";

export interface ReindexResult {
  project: string;
  commits: number;
  deployments: number;
  tenantEnvironments: number;
}

/**
 * Rebuilds a project's deployment index from Git alone: every commit with this server's trailers
 * becomes a deployment again, in commit order. Statuses that Git records (ROLLED_BACK, by later
 * rollback commits) are derived; statuses only agents know (SUCCESS, FAILED) are kept from the
 * index being replaced when it still has that revision, and are PENDING otherwise.
 */
export class Reindexer {
  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly catalog: Catalog,
    private readonly auth: AuthService,
    private readonly recorder: DeploymentRecorder,
  ) {}

  async reindex(projectSlug: string): Promise<ReindexResult> {
    const project = await this.db.manager.findOneBy(Project, { slug: projectSlug });
    if (!project) throw notFound(`project "${projectSlug}" not found`);
    const repo = await this.git.open(project.slug);
    await repo.refresh();
    const history = await repo.history();

    return this.db.withProjectLock(project.id, () =>
      this.db.transaction(async (tx) => {
        const tes = await tx.find(TenantEnvironment, { where: { projectId: project.id } });
        const known = new Map<string, DeploymentStatus>();
        if (tes.length > 0) {
          const old = await tx.find(Deployment, { where: { tenantEnvironmentId: In(tes.map((t) => t.id)) }, select: { tenantEnvironmentId: true, revision: true, status: true } });
          for (const d of old) known.set(`${d.tenantEnvironmentId}:${d.revision}`, d.status);
          await tx.delete(Deployment, { tenantEnvironmentId: In(tes.map((t) => t.id)) });
          await tx.delete(DeploymentCount, { tenantEnvironmentId: In(tes.map((t) => t.id)) });
          await tx.update(TenantEnvironment, { projectId: project.id }, { lastSeq: 0, currentRevision: null });
        }

        const users = new Map<string, User>();
        const byTe = new Map<string, Deployment[]>();
        let count = 0;
        for (const info of history) {
          const parsed = parseDeploymentCommit(info);
          if (!parsed) continue;
          if (!project.environments.includes(parsed.environment)) {
            project.environments = [...project.environments, parsed.environment];
            await tx.update(Project, { id: project.id }, { environments: project.environments });
          }
          await this.catalog.ensureTenantEnvironments(tx, project, parsed.tenant, [parsed.environment]);
          const te = await tx.findOneByOrFail(TenantEnvironment, { projectId: project.id, tenantSlug: parsed.tenant, environment: parsed.environment });
          let author = users.get(parsed.authorEmail);
          if (!author) {
            author = await this.auth.ensureUser(parsed.authorEmail, info.authorName, project.organizationId, tx);
            users.set(parsed.authorEmail, author);
          }
          const described = await this.recorder.describeCommit(repo, te, info.sha);
          const requestExists = parsed.requestId ? await tx.existsBy(RollbackRequest, { id: parsed.requestId }) : false;
          const deployment = await this.recorder.record(tx, {
            te,
            revision: info.sha,
            parentRevision: described.parent,
            deployedAt: info.date,
            author,
            summary: parsed.summary,
            source: parsed.source,
            rollbackRequestId: requestExists ? parsed.requestId : null,
            status: known.get(`${te.id}:${info.sha}`) === DeploymentStatus.ROLLED_BACK ? DeploymentStatus.PENDING : (known.get(`${te.id}:${info.sha}`) ?? DeploymentStatus.PENDING),
            changes: described.changes,
            files: described.files,
          });
          const list = byTe.get(te.id) ?? [];
          if (parsed.targetShort) {
            const target = list.find((d) => d.revision.startsWith(parsed.targetShort!));
            if (target) {
              const undone = rolledBackBy(
                list.filter((d) => d.seq > target.seq),
                { mode: parsed.mode!, service: parsed.service, selectedFields: parsed.fields },
              );
              await this.recorder.setStatus(tx, undone, DeploymentStatus.ROLLED_BACK);
            }
          }
          list.push(deployment);
          byTe.set(te.id, list);
          count++;
        }
        return { project: project.slug, commits: history.length, deployments: count, tenantEnvironments: byTe.size };
      }),
    );
  }
}
