import { BlastRadius, Role, RollbackMode, type RollbackRequestState } from "../../entities/enums.js";
import { RollbackRequest } from "../../entities/rollback-request.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { Database } from "../db/database.js";
import type { ComparisonResult } from "../diff/comparison.js";
import { badInput, notFound } from "../errors.js";
import { decodeCursor, encodeCursor, pageSize, type Page } from "../services/paging.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { planPrepared, type RollbackInputData, type RollbackPreparer } from "./preparation.js";

export interface PreviewResult extends ComparisonResult {
  mode: RollbackMode;
  targetSha: string;
  baseSha: string;
  headSha: string;
  blastRadius: BlastRadius;
  approvalRequired: boolean;
  requiredApprovals: number;
  breakGlassActive: boolean;
  affectedServices: string[];
}

export interface RequestFilter {
  project: string;
  tenant?: string | null;
  environment?: string | null;
  state?: RollbackRequestState | null;
  first?: number | null;
  after?: string | null;
}

const BLAST_RADIUS: Record<RollbackMode, BlastRadius> = {
  [RollbackMode.FULL]: BlastRadius.HIGH,
  [RollbackMode.SERVICE]: BlastRadius.MEDIUM,
  [RollbackMode.FIELD]: BlastRadius.MINIMAL,
};

/** A request with who asked, its reviews and its notes, in the order they came. */
export const REQUEST_RELATIONS = { requestedBy: true, reviews: { reviewer: true }, notes: { author: true } } as const;

/** What reads rollback requests and previews: nothing here writes. */
export class RollbackQueries {
  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
    private readonly approvals: ApprovalService,
    private readonly preparer: RollbackPreparer,
  ) {}

  /** Exactly the commit that requesting this rollback now would write, and whether it would need approval. */
  async preview(actor: Actor, input: RollbackInputData): Promise<PreviewResult> {
    const prepared = await this.preparer.prepare(actor, input, Role.VIEWER);
    const plan = await planPrepared(prepared, input.mode);
    const decision = await this.approvals.decide(prepared.access.organization, prepared.access.project, prepared.te.environment, prepared.access.user);
    return {
      ...plan.comparison,
      mode: input.mode,
      targetSha: prepared.target.revision,
      baseSha: prepared.te.currentRevision ?? prepared.head,
      headSha: prepared.head,
      blastRadius: BLAST_RADIUS[input.mode],
      approvalRequired: decision.approvalRequired,
      requiredApprovals: decision.requiredApprovals,
      breakGlassActive: decision.breakGlassSession !== null,
      affectedServices: plan.affectedServices,
    };
  }

  /** The request with its relations, whoever asks (callers check access). */
  async load(id: string): Promise<RollbackRequest> {
    const request = await this.findById(id);
    if (!request) throw notFound(`rollback request "${id}" not found`);
    return request;
  }

  /** The request if the caller may see it; null otherwise, the same answer as for an id that does not exist. */
  async find(actor: Actor, id: string): Promise<RollbackRequest | null> {
    const request = await this.findById(id);
    if (!request) return null;
    return (await this.access.projectById(actor, request.projectId)) ? request : null;
  }

  /** The request if the caller may see it; NOT_FOUND otherwise. */
  async visible(actor: Actor, id: string): Promise<RollbackRequest> {
    const found = await this.find(actor, id);
    if (!found) throw notFound(`rollback request "${id}" not found`);
    return found;
  }

  async list(actor: Actor, filter: RequestFilter): Promise<Page<RollbackRequest>> {
    const { project } = await this.access.project(actor, filter.project);
    const first = pageSize(filter.first);
    const qb = this.db.manager
      .createQueryBuilder(RollbackRequest, "r")
      .leftJoinAndSelect("r.requestedBy", "requestedBy")
      .leftJoinAndSelect("r.reviews", "reviews")
      .leftJoinAndSelect("reviews.reviewer", "reviewer")
      .leftJoinAndSelect("r.notes", "notes")
      .leftJoinAndSelect("notes.author", "noteAuthor")
      .where("r.projectId = :projectId", { projectId: project.id });
    if (filter.tenant) qb.andWhere("r.tenant = :tenant", { tenant: filter.tenant });
    if (filter.environment) qb.andWhere("r.environment = :environment", { environment: filter.environment });
    if (filter.state) qb.andWhere("r.state = :state", { state: filter.state });
    const totalCount = await qb.clone().getCount();
    let after: { at: Date; id: string } | null = null;
    if (filter.after) {
      const [at, rid] = decodeCursor(filter.after, "rbk").split("|");
      if (!at || !rid || Number.isNaN(new Date(at).getTime())) throw badInput(`invalid cursor "${filter.after}"`);
      after = { at: new Date(at), id: rid };
      qb.andWhere("(r.createdAt < :at OR (r.createdAt = :at AND r.id < :rid))", { at: after.at, rid: after.id });
    }
    const ids = await qb
      .clone()
      .select(["r.id", "r.createdAt"])
      .orderBy("r.createdAt", "DESC")
      .addOrderBy("r.id", "DESC")
      .take(first + 1)
      .getMany();
    const page = ids.slice(0, first);
    const items = page.length === 0 ? [] : await Promise.all(page.map((r) => this.load(r.id)));
    return {
      items,
      totalCount,
      hasNextPage: ids.length > first,
      hasPreviousPage: after !== null,
      cursorOf: (r) => encodeCursor("rbk", `${new Date(r.createdAt).toISOString()}|${r.id}`),
    };
  }

  private findById(id: string): Promise<RollbackRequest | null> {
    return this.db.manager.findOne(RollbackRequest, {
      where: { id },
      relations: REQUEST_RELATIONS,
      order: { reviews: { createdAt: "ASC" }, notes: { createdAt: "ASC" } },
    });
  }
}
