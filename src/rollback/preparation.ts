import type { Deployment } from "../../entities/deployment.js";
import { RollbackMode, type Role } from "../../entities/enums.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import { badInput, Messages } from "../errors.js";
import type { GitStore, ProjectRepository } from "../git/git-store.js";
import type { DeploymentQueries } from "../history/queries.js";
import type { AccessService, ProjectAccess } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import type { Catalog } from "../services/catalog.js";
import type { FieldSelector } from "../yaml/selectors.js";
import { assertModeAllowed } from "./gates.js";
import { parseFieldSelection, planRollback, type RollbackPlan } from "./planner.js";

export interface RollbackInputData {
  project: string;
  tenant: string;
  environment: string;
  mode: RollbackMode;
  targetSha?: string | null;
  service?: string | null;
  fields?: string[] | null;
  justification?: string | null;
}

/** A rollback input checked against access, gates and the repository: everything a plan needs. */
export interface PreparedRollback {
  access: ProjectAccess;
  te: TenantEnvironment;
  target: Deployment;
  fields: FieldSelector[];
  service: string | null;
  repo: ProjectRepository;
  head: string;
}

/** Checks a rollback input the same way for previews and requests, in the order the spec's errors come. */
export class RollbackPreparer {
  constructor(
    private readonly git: GitStore,
    private readonly access: AccessService,
    private readonly catalog: Catalog,
    private readonly deployments: DeploymentQueries,
  ) {}

  async prepare(actor: Actor, input: RollbackInputData, minimum: Role): Promise<PreparedRollback> {
    this.access.requireUser(actor);
    if (!input.targetSha || input.targetSha.trim() === "") throw badInput(Messages.targetShaRequired);
    const access = await this.access.project(actor, input.project, minimum);
    const te = await this.catalog.tenantEnvironment(access.project, input.tenant, input.environment);
    assertModeAllowed(access.organization, input.mode);
    let service: string | null = null;
    let fields: FieldSelector[] = [];
    if (input.mode === RollbackMode.FULL) {
      if (input.service || (input.fields && input.fields.length > 0))
        throw badInput("service and fields apply to SERVICE and FIELD modes only; FULL reverts the whole tenant-environment");
    } else {
      service = input.service?.trim() || null;
      if (!service) throw badInput(`service is required for ${input.mode} mode`);
      if (input.mode === RollbackMode.FIELD) fields = parseFieldSelection(input.fields);
      else if (input.fields && input.fields.length > 0) throw badInput("fields apply to FIELD mode only; SERVICE reverts the whole service");
    }
    const target = await this.deployments.findByRevision(te, input.targetSha);
    if (!target) {
      throw badInput(`Invalid target revision: "${input.targetSha.trim()}" is not a deployment of tenant/${te.tenantSlug} env/${te.environment}`, {
        targetSha: input.targetSha,
      });
    }
    const repo = await this.git.open(access.project.slug);
    await repo.refresh();
    const head = await repo.head();
    if (!head) throw badInput(`project "${access.project.slug}" has no commits yet`);
    return { access, te, target, fields, service, repo, head };
  }
}

/** The plan of a prepared rollback on top of the head it was prepared on. */
export function planPrepared(p: PreparedRollback, mode: RollbackMode): Promise<RollbackPlan> {
  return planRollback({
    repo: p.repo,
    tenant: p.te.tenantSlug,
    environment: p.te.environment,
    mode,
    head: p.head,
    target: p.target.revision,
    service: p.service,
    fields: p.fields,
  });
}
