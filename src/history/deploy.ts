import { Deployment } from "../../entities/deployment.js";
import { DeploymentSource, DeploymentStatus, Role } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { User } from "../../entities/user.js";
import type { Database } from "../db/database.js";
import { renderFromFiles } from "../delivery/renderer.js";
import { badInput, notFound } from "../errors.js";
import { GitConflictError, NothingToCommitError } from "../git/errors.js";
import type { GitStore, ProjectRepository, TreeWrite } from "../git/git-store.js";
import { classifyPath, renderedFile, serviceDir, servicePaths, tenantDir } from "../git/layout.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { assertSlug, type Catalog } from "../services/catalog.js";
import { setYamlFields } from "../yaml/patch.js";
import { FieldSelectorError, parseFieldSelector } from "../yaml/selectors.js";
import { lookup, parseYamlRecord } from "../yaml/values.js";
import { deployMessage } from "./commit-message.js";
import { NO_DEPLOY_GUARD, type DeployGuard } from "./deploy-guard.js";
import type { DeploymentRecorder } from "./recorder.js";

export interface DeployInput {
  project: string;
  tenant: string;
  environment: string;
  source?: DeploymentSource | null;
  service: string;
  set?: Record<string, unknown> | null;
  fromEnvironment?: string | null;
  summary?: string | null;
  /** Deploy even though it writes back values held after a rollback (needs holdOverrideJustification). */
  overrideHolds?: boolean | null;
  holdOverrideJustification?: string | null;
}

const SOURCE_FILES = ["values.yaml", "bindings.yaml", "variables.yaml"] as const;
const MAX_DEPLOY_ATTEMPTS = 5;

/**
 * Writes RELEASE and PROMOTION commits (and imports of whole tenant-environments, for the seed)
 * and hands each commit to the recorder, under the tenant-environment's lock.
 */
export class DeployService {
  constructor(
    private readonly db: Database,
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly recorder: DeploymentRecorder,
    private readonly guard: DeployGuard = NO_DEPLOY_GUARD,
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
          source === DeploymentSource.PROMOTION ? await this.promotionWrites(repo, project, te, head, input) : await this.releaseWrites(repo, te, head, input);
        // Freeze windows and holds may refuse it, or add trailers and records of an override.
        const admission = await this.guard.admitDeploy({
          actor,
          project,
          te,
          repo,
          head,
          service: input.service,
          source,
          writes,
          overrideHolds: input.overrideHolds ?? false,
          holdOverrideJustification: input.holdOverrideJustification ?? null,
        });
        const message = deployMessage({
          summary: input.summary?.trim() || summary,
          tenant: te.tenantSlug,
          environment: te.environment,
          service: input.service,
          source,
          author: author.email,
          fromEnvironment: input.fromEnvironment,
          trailers: admission.trailers,
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
          return await this.recorder.recordCommit(
            repo,
            actor,
            {
              te,
              revision: commit.sha,
              author,
              source,
              summary: message.split("\n")[0]!,
              status: options.status,
            },
            admission.record,
          );
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
        const known = [...existing.keys()]
          .filter((f) => !f.includes("/"))
          .sort()
          .join(", ");
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
    return {
      writes,
      summary: `Promote ${input.service} from ${from} to ${te.tenantSlug}/${te.environment}${tag ? ` (${typeof tag === "object" ? JSON.stringify(tag) : String(tag as string | number | boolean)})` : ""}`,
    };
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
      return this.recorder.recordCommit(repo, actor, {
        te,
        revision: commit.sha,
        author: options.author,
        source,
        summary: options.summary,
        status: options.status,
      });
    });
  }
}
