import { TenantEnvironment } from "../../entities/tenant-environment.js";
import { compareRevisions } from "../diff/comparison.js";
import { badInput } from "../errors.js";
import type { GitStore } from "../git/git-store.js";
import { SERVICES_DIR, servicePaths, tenantDir } from "../git/layout.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { Catalog } from "../services/catalog.js";
import { parseYamlRecord } from "../yaml/values.js";
import type { DeploymentQueries } from "./queries.js";

/** What a tenant-environment holds at a revision, and what moving it between two revisions changes (straight from Git). */
export class RevisionReader {
  constructor(
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentQueries,
  ) {}

  /** What moving a tenant-environment from `base` (default: its current revision) to `target` changes. */
  async compare(actor: Actor, project: string, tenant: string, environment: string, target: string, base?: string | null) {
    const access = await this.access.project(actor, project);
    const te = await this.catalog.tenantEnvironment(access.project, tenant, environment);
    const repo = await this.git.open(access.project.slug);
    await repo.refresh();
    const resolve = async (label: string, rev: string) => {
      const sha = (await this.deployments.findByRevision(te, rev))?.revision ?? (await repo.resolveCommit(rev.trim().toLowerCase()));
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
}
