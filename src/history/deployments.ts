import type { EntityManager } from "typeorm";
import { Deployment, DeploymentCount } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus, Role } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { renderFromFiles } from "../delivery/renderer.js";
import { compareRevisions, describeChanges, loadChangeSet, type FileChangeSet } from "../diff/comparison.js";
import { badInput, notFound } from "../errors.js";
import { GitConflictError, NothingToCommitError } from "../git/errors.js";
import type { GitStore, ProjectRepository, TreeWrite } from "../git/git-store.js";
import { classifyPath, renderedFile, serviceDir, SERVICES_DIR, servicePaths, tenantDir } from "../git/layout.js";
import { stableId } from "../../entities/ids.js";
import { decodeCursor, encodeCursor, pageSize, type Page } from "../services/paging.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { AuditTrail } from "../services/audit.js";
import { assertSlug, type Catalog } from "../services/catalog.js";
import type { Events } from "../services/events.js";
import { lookup, parseFieldSelector, parseYamlRecord, setYamlFields, FieldSelectorError } from "../yaml/fields.js";
import { deployMessage } from "./commit-message.js";

export interface DeployInput {
  project: string;
  tenant: string;
  environment: string;
  source?: DeploymentSource | null;
  service: string;
  set?: Record<string, unknown> | null;
  fromEnvironment?: string | null;
  summary?: string | null;
}

export interface HistoryFilter {
  first?: number | null;
  after?: string | null;
  source?: DeploymentSource | null;
  status?: DeploymentStatus | null;
}

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

const SOURCE_FILES = ["values.yaml", "bindings.yaml", "variables.yaml"] as const;
const MAX_DEPLOY_ATTEMPTS = 5;

/**
 * The deployment history: writes RELEASE and PROMOTION commits, records every commit that
 * touches a tenant-environment, pages the index, and rebuilds it from Git trailers.
 */
export class DeploymentService {
  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly audit: AuditTrail,
    private readonly events: Events,
  ) {}

  async deploy(actor: Actor, input: DeployInput): Promise<Deployment> {
    const { project, user } = await this.access.project(actor, input.project, Role.DEPLOYER);
    if (!user) throw badInput("a deployment needs a user to author it");
    const te = await this.catalog.tenantEnvironment(project, input.tenant, input.environment);
    return this.applyDeployment(actor, project, te, user, input);
  }

  /** Writes a RELEASE or PROMOTION commit authored by `author` and records it (access already checked). */
  async applyDeployment(
    actor: Actor,
    project: Project,
    te: TenantEnvironment,
    author: User,
    input: DeployInput,
    options: { date?: Date; status?: DeploymentStatus } = {},
  ): Promise<Deployment> {
    const source = input.source ?? DeploymentSource.RELEASE;
    if (source === DeploymentSource.ROLLBACK) throw badInput("source ROLLBACK is not a deployment you can make: use requestRollback");
    assertSlug("service", input.service);
    const repo = await this.git.open(project.slug);
    const owned = servicePaths(te.tenantSlug, te.environment, input.service);

    return this.db.withTenantEnvironmentLock(project.id, te.id, async () => {
      for (let attempt = 1; ; attempt++) {
        await repo.refresh();
        const head = await repo.head();
        if (!head) throw badInput(`project "${project.slug}" has no commits yet`);
        const { writes, summary } =
          source === DeploymentSource.PROMOTION
            ? await this.promotionWrites(repo, project, te, head, input)
            : await this.releaseWrites(repo, te, head, input);
        const message = deployMessage({
          summary: input.summary?.trim() || summary,
          tenant: te.tenantSlug,
          environment: te.environment,
          service: input.service,
          source,
          author: author.email,
          fromEnvironment: input.fromEnvironment,
        });
        try {
          const commit = await repo.commit({
            base: head,
            writes,
            message,
            author: { name: author.name ?? author.email, email: author.email },
            date: options.date,
            guardPaths: [owned.dir, owned.rendered],
          });
          return await this.recordCommit(repo, actor, {
            te,
            revision: commit.sha,
            author,
            source,
            summary: message.split("\n")[0]!,
            status: options.status,
          });
        } catch (err) {
          if (err instanceof NothingToCommitError) throw badInput(`the deployment changes nothing: ${input.service} already has these values`);
          // Someone changed this service meanwhile: compute the change again on their commit.
          if (err instanceof GitConflictError && attempt < MAX_DEPLOY_ATTEMPTS) continue;
          throw err;
        }
      }
    });
  }

  private async releaseWrites(repo: ProjectRepository, te: TenantEnvironment, head: string, input: DeployInput): Promise<{ writes: TreeWrite[]; summary: string }> {
    const dir = tenantDir(te.tenantSlug, te.environment);
    const { dir: svcDir, rendered } = servicePaths(te.tenantSlug, te.environment, input.service);
    if (!input.set || typeof input.set !== "object" || Array.isArray(input.set) || Object.keys(input.set).length === 0) {
      throw badInput('RELEASE needs "set": an object of field paths to new values, e.g. {"image.tag": "v2.1.0"}');
    }
    const existing = await repo.readFiles(head, svcDir);
    if (!existing.has("values.yaml")) throw badInput(`unknown service "${input.service}" in ${dir}/`);
    const byFile = new Map<string, { raw: string; segments: string[]; value: unknown }[]>();
    const described: string[] = [];
    for (const [key, value] of Object.entries(input.set)) {
      let selector;
      try {
        selector = parseFieldSelector(key);
      } catch (err) {
        throw badInput((err as FieldSelectorError).message);
      }
      const list = byFile.get(selector.fileName) ?? [];
      list.push({ raw: selector.raw, segments: selector.segments, value });
      byFile.set(selector.fileName, list);
      described.push(`${selector.raw}=${typeof value === "string" ? value : JSON.stringify(value)}`);
    }
    const files = new Map<string, string | Buffer | null>(existing);
    const writes: TreeWrite[] = [];
    for (const [fileName, assignments] of byFile) {
      const buffer = existing.get(fileName);
      if (!buffer) {
        // A typo in the file part (variable:X for variables:X) would add a file nothing reads.
        const known = [...existing.keys()].filter((f) => !f.includes("/")).sort().join(", ");
        throw badInput(`service "${input.service}" has no file ${fileName} (fields ${assignments.map((a) => a.raw).join(", ")}); its files are ${known}`);
      }
      const current = buffer.toString("utf8");
      const data = parseYamlRecord(current);
      for (const a of assignments) {
        // Setting below a scalar (replicas.max when replicas is a number) cannot be done without
        // destroying the scalar; the caller almost certainly meant another path.
        for (let i = 1; i < a.segments.length; i++) {
          const prefix = lookup(data, a.segments.slice(0, i));
          if (prefix.exists && (prefix.value === null || typeof prefix.value !== "object")) {
            throw badInput(`field "${a.raw}": ${a.segments.slice(0, i).join(".")} is a ${prefix.value === null ? "null" : typeof prefix.value} value, not a map or list`);
          }
        }
      }
      const next = setYamlFields(current, assignments);
      files.set(fileName, next);
      writes.push({ type: "file", path: `${svcDir}/${fileName}`, content: next });
    }
    writes.push({ type: "file", path: rendered, content: renderFromFiles(te.tenantSlug, te.environment, input.service, files) });
    return { writes, summary: `Release ${input.service} to ${te.tenantSlug}/${te.environment}: ${described.join(", ")}` };
  }

  private async promotionWrites(
    repo: ProjectRepository,
    project: Project,
    te: TenantEnvironment,
    head: string,
    input: DeployInput,
  ): Promise<{ writes: TreeWrite[]; summary: string }> {
    const from = input.fromEnvironment?.trim();
    if (!from) throw badInput("PROMOTION needs fromEnvironment");
    if (from === te.environment) throw badInput("fromEnvironment must differ from the environment promoted to");
    const fromTe = await this.catalog.findTenantEnvironment(project, te.tenantSlug, from);
    if (!fromTe) throw notFound(`environment "${from}" not found for tenant "${te.tenantSlug}" in project "${project.slug}"`);
    const fromSvcDir = servicePaths(te.tenantSlug, from, input.service).dir;
    const files = await repo.readFiles(head, fromSvcDir);
    if (files.size === 0) throw badInput(`unknown service "${input.service}" in ${tenantDir(te.tenantSlug, from)}/`);
    const owned = servicePaths(te.tenantSlug, te.environment, input.service);
    const writes: TreeWrite[] = [
      { type: "copy", path: owned.dir, revision: head, from: fromSvcDir },
      { type: "file", path: owned.rendered, content: renderFromFiles(te.tenantSlug, te.environment, input.service, files) },
    ];
    const tag = (parseYamlRecord(files.get("values.yaml") ?? null).image as { tag?: unknown } | undefined)?.tag;
    return { writes, summary: `Promote ${input.service} from ${from} to ${te.tenantSlug}/${te.environment}${tag ? ` (${String(tag)})` : ""}` };
  }

  /**
   * Writes a tenant-environment's files as one RELEASE commit (first import, demo seed). Rendered
   * manifests are generated for every service in `files`.
   */
  async importFiles(
    actor: Actor,
    project: Project,
    te: TenantEnvironment,
    files: Map<string, string>,
    options: { author: User; summary: string; date?: Date; source?: DeploymentSource; status?: DeploymentStatus },
  ): Promise<Deployment> {
    const dir = tenantDir(te.tenantSlug, te.environment);
    const repo = await this.git.open(project.slug);
    const writes: TreeWrite[] = [...files].map(([rel, content]) => ({ type: "file" as const, path: `${dir}/${rel}`, content }));
    const services = new Set([...files.keys()].map((rel) => classifyPath(rel)).flatMap((c) => (c && !c.rendered ? [c.service] : [])));
    const head = await repo.head();
    for (const service of services) {
      const own = new Map<string, string | Buffer | null>();
      for (const name of SOURCE_FILES) {
        const rel = `${serviceDir(service)}/${name}`;
        own.set(name, files.get(rel) ?? (head ? await repo.readFile(head, `${dir}/${rel}`) : null));
      }
      writes.push({ type: "file", path: `${dir}/${renderedFile(service)}`, content: renderFromFiles(te.tenantSlug, te.environment, service, own) });
    }
    const source = options.source ?? DeploymentSource.RELEASE;
    return this.db.withTenantEnvironmentLock(project.id, te.id, async () => {
      const message = deployMessage({
        summary: options.summary,
        tenant: te.tenantSlug,
        environment: te.environment,
        service: [...services].join(","),
        source: source as DeploymentSource.RELEASE,
        author: options.author.email,
      });
      const commit = await repo.commit({
        base: head,
        writes,
        message,
        author: { name: options.author.name ?? options.author.email, email: options.author.email },
        date: options.date,
        guardPaths: [dir],
      });
      return this.recordCommit(repo, actor, {
        te,
        revision: commit.sha,
        author: options.author,
        source,
        summary: options.summary,
        status: options.status,
      });
    });
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
    };
  }

  /** Inserts the deployment row, advances the tenant-environment and the counts. Runs in the caller's transaction. */
  async record(tx: EntityManager, input: RecordInput): Promise<Deployment> {
    const te = await this.db
      .forUpdate(tx.createQueryBuilder(TenantEnvironment, "te").where("te.id = :id", { id: input.te.id }))
      .getOneOrFail();
    const existing = await tx.findOne(Deployment, { where: { tenantEnvironmentId: te.id, revision: input.revision }, relations: { author: true } });
    if (existing) return existing;
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
    await tx.insert(Deployment, deployment as never);
    await tx.update(TenantEnvironment, { id: te.id }, { lastSeq: seq, currentRevision: input.revision });
    input.te.lastSeq = seq;
    input.te.currentRevision = input.revision;
    await this.adjustCount(tx, te.id, deployment.source, deployment.status, 1);
    deployment.author = input.author;
    return deployment;
  }

  private async adjustCount(tx: EntityManager, teId: string, source: DeploymentSource, status: DeploymentStatus, delta: number): Promise<void> {
    const p = (n: number) => this.db.param(n);
    await tx.query(
      `INSERT INTO "deployment_count" ("tenantEnvironmentId", "source", "status", "count") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
       ON CONFLICT ("tenantEnvironmentId", "source", "status") DO UPDATE SET "count" = "deployment_count"."count" + EXCLUDED."count"`,
      [teId, source, status, delta],
    );
  }

  /** Moves deployments to a new status, keeping the counts in step. */
  async setStatus(tx: EntityManager, deployments: Deployment[], status: DeploymentStatus): Promise<Deployment[]> {
    const changed = deployments.filter((d) => d.status !== status);
    for (const d of changed) {
      await this.adjustCount(tx, d.tenantEnvironmentId, d.source, d.status, -1);
      await this.adjustCount(tx, d.tenantEnvironmentId, d.source, status, 1);
      d.status = status;
    }
    if (changed.length > 0) {
      await tx
        .createQueryBuilder()
        .update(Deployment)
        .set({ status })
        .whereInIds(changed.map((d) => d.id))
        .execute();
    }
    return changed;
  }

  async history(actor: Actor, project: string, tenant: string, environment: string, filter: HistoryFilter): Promise<Page<Deployment>> {
    const access = await this.access.project(actor, project);
    const te = await this.catalog.tenantEnvironment(access.project, tenant, environment);
    return this.historyOf(te, filter);
  }

  /** Newest first, keyset-paged on seq: a page costs the same at any history length. */
  async historyOf(te: TenantEnvironment, filter: HistoryFilter): Promise<Page<Deployment>> {
    const first = pageSize(filter.first);
    const qb = this.db.manager
      .createQueryBuilder(Deployment, "d")
      .leftJoinAndSelect("d.author", "author")
      .where("d.tenantEnvironmentId = :te", { te: te.id });
    if (filter.source) qb.andWhere("d.source = :source", { source: filter.source });
    if (filter.status) qb.andWhere("d.status = :status", { status: filter.status });
    let afterSeq: number | null = null;
    if (filter.after) {
      afterSeq = Number(decodeCursor(filter.after, "dep"));
      if (!Number.isInteger(afterSeq)) throw badInput(`invalid cursor "${filter.after}"`);
      qb.andWhere("d.seq < :afterSeq", { afterSeq });
    }
    const rows = first === 0 ? [] : await qb.orderBy("d.seq", "DESC").limit(first + 1).getMany();
    return {
      items: rows.slice(0, first),
      totalCount: await this.count(te.id, filter.source ?? null, filter.status ?? null),
      hasNextPage: rows.length > first,
      hasPreviousPage: afterSeq !== null,
      cursorOf: (d) => encodeCursor("dep", String(d.seq)),
    };
  }

  private async count(teId: string, source: DeploymentSource | null, status: DeploymentStatus | null): Promise<number> {
    const qb = this.db.manager
      .createQueryBuilder(DeploymentCount, "c")
      .select("COALESCE(SUM(c.count), 0)", "total")
      .where("c.tenantEnvironmentId = :teId", { teId });
    if (source) qb.andWhere("c.source = :source", { source });
    if (status) qb.andWhere("c.status = :status", { status });
    const row = await qb.getRawOne<{ total: string | number }>();
    return Number(row?.total ?? 0);
  }

  /** The deployment of this tenant-environment at a full or abbreviated revision; null when there is none. */
  async findByRevision(te: TenantEnvironment, revision: string): Promise<Deployment | null> {
    const rev = revision.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(rev)) return null;
    // Query builder with limit, not findOne: findOne with a relation costs TypeORM a second query.
    const qb = this.db.manager.createQueryBuilder(Deployment, "d").leftJoinAndSelect("d.author", "author").where("d.tenantEnvironmentId = :te", { te: te.id });
    if (rev.length >= 40) return qb.andWhere("d.revision = :rev", { rev }).limit(1).getOne();
    const matches = await qb.andWhere("d.revision LIKE :prefix", { prefix: `${rev}%` }).limit(2).getMany();
    if (matches.length > 1) throw badInput(`revision "${revision}" is ambiguous in ${te.path}: give more characters`);
    return matches[0] ?? null;
  }

  /** What moving a tenant-environment from `base` (default: its current revision) to `target` changes. */
  async compare(actor: Actor, project: string, tenant: string, environment: string, target: string, base?: string | null) {
    const access = await this.access.project(actor, project);
    const te = await this.catalog.tenantEnvironment(access.project, tenant, environment);
    const repo = await this.git.open(access.project.slug);
    await repo.refresh();
    const resolve = async (label: string, rev: string) => {
      const sha = (await this.findByRevision(te, rev))?.revision ?? (await repo.resolveCommit(rev.trim().toLowerCase()));
      if (!sha) throw badInput(`Invalid ${label} revision: "${rev}" is not a commit of project "${access.project.slug}"`);
      return sha;
    };
    if (!target || target.trim() === "") throw badInput("target is required");
    const targetSha = await resolve("target", target);
    const baseSha = base && base.trim() !== "" ? await resolve("base", base) : (te.currentRevision ?? (await repo.head()));
    if (!baseSha) throw badInput(`${te.path} has no deployments yet`);
    const dir = tenantDir(te.tenantSlug, te.environment);
    return { tenant: te.tenantSlug, environment: te.environment, base: baseSha, target: targetSha, ...(await compareRevisions(repo, dir, baseSha, targetSha)) };
  }

  /** The services of a tenant-environment at its current revision: parsed values and file paths. */
  async currentServices(te: TenantEnvironment): Promise<{ name: string; values: Record<string, unknown>; files: string[] }[]> {
    const project = await this.catalog.project(te.projectId);
    const repo = await this.git.open(project.slug);
    const revision = te.currentRevision ?? (await repo.head());
    if (!revision) return [];
    const dir = tenantDir(te.tenantSlug, te.environment);
    const paths = await repo.listFiles(revision, `${dir}/${SERVICES_DIR}`);
    const byService = new Map<string, string[]>();
    for (const rel of paths) {
      const [service] = rel.split("/");
      byService.set(service!, [...(byService.get(service!) ?? []), `${dir}/${SERVICES_DIR}/${rel}`]);
    }
    const out = [];
    for (const [name, files] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
      const owned = servicePaths(te.tenantSlug, te.environment, name);
      if ((await repo.entryId(revision, owned.rendered)) !== null) files.push(owned.rendered);
      out.push({ name, values: parseYamlRecord(await repo.readFile(revision, `${owned.dir}/values.yaml`)), files });
    }
    return out;
  }

  async byId(id: string): Promise<Deployment | null> {
    return this.db.manager.findOne(Deployment, { where: { id }, relations: { author: true } });
  }

  /** Deployments of a tenant-environment newer than `seq`, oldest first. */
  async newerThan(tx: EntityManager, teId: string, seq: number): Promise<Deployment[]> {
    return tx
      .createQueryBuilder(Deployment, "d")
      .where("d.tenantEnvironmentId = :teId", { teId })
      .andWhere("d.seq > :seq", { seq })
      .orderBy("d.seq", "ASC")
      .getMany();
  }
}
