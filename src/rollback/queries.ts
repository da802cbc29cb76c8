import { BlastRadius, Role, RollbackMode, type RollbackRequestState } from "../../entities/enums.js";
import { Membership } from "../../entities/membership.js";
import { Review, RollbackNote, RollbackRequest } from "../../entities/rollback-request.js";
import { User } from "../../entities/user.js";
import type { ApprovalService } from "../approvals/approval-service.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import type { ChangeSummary } from "../diff/comparison.js";
import { forbidden, notFound } from "../errors.js";
import { createdKey, keysetPage, pageRequest, type Page, type PageRequest } from "../services/paging.js";
import type { AccessService } from "../services/access.js";
import type { Actor } from "../services/actor.js";
import { BLAST_RADIUS } from "./gates.js";
import { planPrepared, type RollbackInputData, type RollbackPreparer } from "./preparation.js";

export interface PreviewResult extends ChangeSummary {
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

export interface RequestFilter extends PageRequest {
  project: string;
  tenant?: string | null;
  environment?: string | null;
  state?: RollbackRequestState | null;
}

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
    return (await this.visibleId(actor, id)) ? this.findById(id) : null;
  }

  /**
   * Whether the request exists in a project the caller has a role in, in one query scoped by the
   * caller's memberships: an id of another organization takes the same path, with the same work,
   * as an id that does not exist, so neither the answer nor its timing tells them apart.
   */
  private async visibleId(actor: Actor, id: string): Promise<boolean> {
    if (actor.kind === "agent") throw forbidden("agent tokens can only call reportSyncStatus");
    const qb = this.db.manager.createQueryBuilder(RollbackRequest, "r").select("r.id").where("r.id = :id", { id });
    if (actor.kind !== "system") qb.innerJoin(Membership, "m", "m.projectId = r.projectId AND m.userId = :userId", { userId: actor.user.id });
    return (await qb.getOne()) !== null;
  }

  /** The request if the caller may see it; NOT_FOUND otherwise. */
  async visible(actor: Actor, id: string): Promise<RollbackRequest> {
    const found = await this.find(actor, id);
    if (!found) throw notFound(`rollback request "${id}" not found`);
    return found;
  }

  async list(actor: Actor, filter: RequestFilter): Promise<Page<RollbackRequest>> {
    const { project } = await this.access.project(actor, filter.project);
    const requests = () => {
      const qb = this.db.manager.createQueryBuilder(RollbackRequest, "r").where("r.projectId = :projectId", { projectId: project.id });
      if (filter.tenant) qb.andWhere("r.tenant = :tenant", { tenant: filter.tenant });
      if (filter.environment) qb.andWhere("r.environment = :environment", { environment: filter.environment });
      if (filter.state) qb.andWhere("r.state = :state", { state: filter.state });
      return qb;
    };
    return keysetPage({
      kind: "rbk",
      key: createdKey,
      keyOf: (r: RollbackRequest) => ({ at: new Date(r.createdAt), id: r.id }),
      ...pageRequest(filter),
      fetch: ({ after, before, backward }, limit) => {
        const qb = requests();
        const [created, at] = this.comparableTime();
        if (after) qb.andWhere(`(${created} < ${at("at")} OR (${created} = ${at("at")} AND r.id < :rid))`, { at: this.timeParameter(after.at), rid: after.id });
        if (before) {
          qb.andWhere(`(${created} > ${at("beforeAt")} OR (${created} = ${at("beforeAt")} AND r.id > :beforeId))`, {
            beforeAt: this.timeParameter(before.at),
            beforeId: before.id,
          });
        }
        const order = backward ? "ASC" : "DESC";
        return qb.select(["r.id", "r.createdAt"]).orderBy("r.createdAt", order).addOrderBy("r.id", order).take(limit).getMany();
      },
      count: () => requests().getCount(),
      // The keys of the page first, then each request with its relations (joined in the page query they would multiply its rows).
      expand: (page) => Promise.all(page.map((r) => this.load(r.id))),
    });
  }

  /**
   * REQUEST_RELATIONS in one statement of fixed SQL: every rollback reads its request back twice,
   * and findOne with relations costs TypeORM two statements and its generic join hydration.
   * Reviews and notes come joined side by side (a request has a handful of each) and are
   * taken apart here, each in creation order.
   */
  private async findById(id: string): Promise<RollbackRequest | null> {
    const r = this.readers;
    const rows = await this.db.read(r.sql, [id]);
    if (rows.length === 0) return null;
    const request = r.request.read(rows[0]!)!;
    request.requestedBy = r.requester.read(rows[0]!)!;
    const reviews = new Map<string, Review>();
    const notes = new Map<string, RollbackNote>();
    for (const row of rows) {
      const review = r.review.read(row);
      if (review && !reviews.has(review.id)) {
        review.reviewer = r.reviewer.read(row)!;
        reviews.set(review.id, review);
      }
      const note = r.note.read(row);
      if (note && !notes.has(note.id)) {
        note.author = r.noteAuthor.read(row)!;
        notes.set(note.id, note);
      }
    }
    const byTime = <T extends { createdAt: Date; id: string }>(a: T, b: T) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    request.reviews = [...reviews.values()].sort(byTime);
    request.notes = [...notes.values()].sort(byTime);
    return request;
  }

  /**
   * SQLite keeps creation times as text ("YYYY-MM-DD HH:MM:SS" from CURRENT_TIMESTAMP), which a
   * bound time does not compare with as a time: both sides are put in one format there.
   * PostgreSQL compares timestamps as they are.
   */
  private comparableTime(): [column: string, parameter: (name: string) => string] {
    if (this.db.dialect !== "sqlite") return ["r.createdAt", (name) => `:${name}`];
    const normal = (expr: string) => `strftime('%Y-%m-%d %H:%M:%f', ${expr})`;
    return [normal("r.createdAt"), (name) => normal(`:${name}`)];
  }

  private timeParameter(at: Date): Date | string {
    return this.db.dialect === "sqlite" ? at.toISOString() : at;
  }

  private get readers() {
    if (this.requestReaders) return this.requestReaders;
    const ds = this.db.dataSource;
    const request = new RowReader(ds, RollbackRequest, "r");
    const requester = new RowReader(ds, User, "u");
    const review = new RowReader(ds, Review, "rv");
    const reviewer = new RowReader(ds, User, "rvu");
    const note = new RowReader(ds, RollbackNote, "n");
    const noteAuthor = new RowReader(ds, User, "nu");
    const sql =
      `SELECT ${[request, requester, review, reviewer, note, noteAuthor].map((x) => x.select).join(", ")} FROM "rollback_request" "r" ` +
      `LEFT JOIN "user" "u" ON "u"."id" = "r"."requestedById" ` +
      `LEFT JOIN "review" "rv" ON "rv"."requestId" = "r"."id" LEFT JOIN "user" "rvu" ON "rvu"."id" = "rv"."reviewerId" ` +
      `LEFT JOIN "rollback_note" "n" ON "n"."requestId" = "r"."id" LEFT JOIN "user" "nu" ON "nu"."id" = "n"."authorId" ` +
      `WHERE "r"."id" = ${this.db.param(1)}`;
    this.requestReaders = { request, requester, review, reviewer, note, noteAuthor, sql };
    return this.requestReaders;
  }

  private requestReaders: {
    request: RowReader<RollbackRequest>;
    requester: RowReader<User>;
    review: RowReader<Review>;
    reviewer: RowReader<User>;
    note: RowReader<RollbackNote>;
    noteAuthor: RowReader<User>;
    sql: string;
  } | null = null;
}
