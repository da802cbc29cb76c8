import type { EntityManager } from "typeorm";
import { AuditChainHead, AuditEvent } from "../../entities/audit-event.js";
import type { Database } from "../db/database.js";
import { RowReader } from "../db/rows.js";
import { newId } from "../../entities/ids.js";
import { sha256 } from "../lib/ids.js";
import type { AccessService } from "./access.js";
import { descendingBy, keysetPage, pageRequest, seqKey, type Page, type PageRequest } from "./paging.js";
import type { Actor } from "./actor.js";

export const GENESIS_HASH = "0".repeat(64);

export interface AuditInput {
  projectId: string;
  actor: Actor | null;
  action: string;
  subjectId?: string | null;
  details?: Record<string, unknown>;
  breakGlass?: boolean;
  at?: Date;
}

export interface ChainBreak {
  seq: number;
  eventId: string;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBreak: ChainBreak | null;
}

/** JSON with object keys sorted at every level, so a hash never depends on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function eventHash(prevHash: string, event: Pick<AuditEvent, "projectId" | "seq" | "at" | "actorId" | "action" | "breakGlass" | "subjectId" | "details">): string {
  const content = canonicalJson({
    projectId: event.projectId,
    seq: event.seq,
    at: new Date(event.at).toISOString(),
    actorId: event.actorId,
    action: event.action,
    breakGlass: Boolean(event.breakGlass),
    subjectId: event.subjectId,
    details: event.details,
  });
  return sha256(`${prevHash}\n${content}`);
}

/**
 * The append-only, hash-chained audit trail. Events are appended inside the caller's transaction,
 * so an action and its event land together; the chain head row is locked while appending.
 */
export class AuditTrail {
  /** Every change appends here, inside its transaction: fixed SQL for the head's read and update and the event's insert. */
  private readonly headRows: RowReader<AuditChainHead>;
  private readonly eventRows: RowReader<AuditEvent>;
  private readonly headSql: string;
  private readonly advanceSql: string;

  constructor(
    private readonly db: Database,
    private readonly access: AccessService,
  ) {
    this.headRows = new RowReader(db.dataSource, AuditChainHead, "h");
    this.eventRows = new RowReader(db.dataSource, AuditEvent, "e");
    // The head row is locked while appending (PostgreSQL; SQLite transactions are serialized already).
    this.headSql = `SELECT ${this.headRows.select} FROM "audit_chain_head" "h" WHERE "h"."projectId" = ${db.param(1)}${db.dialect === "postgres" ? " FOR UPDATE" : ""}`;
    this.advanceSql = `UPDATE "audit_chain_head" SET "seq" = ${db.param(1)}, "hash" = ${db.param(2)} WHERE "projectId" = ${db.param(3)}`;
  }

  async append(tx: EntityManager, input: AuditInput): Promise<AuditEvent> {
    const rows: Record<string, unknown>[] = await tx.query(this.headSql, [input.projectId]);
    let head = rows[0] ? this.headRows.read(rows[0]) : null;
    if (!head) {
      head = tx.create(AuditChainHead, { projectId: input.projectId, seq: 0, hash: GENESIS_HASH });
      await tx.insert(AuditChainHead, head);
    }
    const actor = input.actor;
    const actorId = actor && actor.kind !== "agent" ? (actor.user?.id ?? null) : null;
    const details = {
      ...(input.details ?? {}),
      ...(actor?.kind === "agent" ? { agentTokenId: actor.tokenId } : {}),
      ...(actor?.kind === "system" ? { via: actor.via ?? "operator" } : {}),
    };
    const event = tx.create(AuditEvent, {
      id: newId("AuditEvent"),
      projectId: input.projectId,
      seq: head.seq + 1,
      // Millisecond precision survives every database's timestamp type, so hashes verify after a round trip.
      at: new Date(Math.floor((input.at ?? new Date()).getTime())),
      actorId,
      action: input.action,
      breakGlass: input.breakGlass ?? false,
      subjectId: input.subjectId ?? null,
      details: JSON.parse(JSON.stringify(details)) as Record<string, unknown>,
      prevHash: head.hash,
      hash: "",
    });
    event.hash = eventHash(head.hash, event);
    // Every column is set here, so nothing needs reading back after the insert.
    await this.eventRows.insert(tx, event);
    await tx.query(this.advanceSql, [event.seq, event.hash, input.projectId]);
    return event;
  }

  /** A project's events, newest first, for a caller who may read the project. */
  async events(actor: Actor, projectSlug: string, filter: PageRequest & { breakGlassOnly?: boolean | null }): Promise<Page<AuditEvent>> {
    const { project } = await this.access.project(actor, projectSlug);
    const events = () => {
      const qb = this.db.manager.createQueryBuilder(AuditEvent, "e").leftJoinAndSelect("e.actor", "actor").where("e.projectId = :projectId", { projectId: project.id });
      return filter.breakGlassOnly ? qb.andWhere("e.breakGlass = :bg", { bg: true }) : qb;
    };
    return keysetPage({
      kind: "evt",
      key: seqKey,
      keyOf: (e: AuditEvent) => e.seq,
      ...pageRequest(filter),
      defaultSize: 50,
      fetch: (range, limit) => descendingBy(events(), "e.seq", range).take(limit).getMany(),
      count: () => events().getCount(),
    });
  }

  /** Walks a project's chain from the first event and reports the first link that does not hold. */
  async verify(projectId: string): Promise<VerifyResult> {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let checked = 0;
    const batch = 1000;
    for (let from = 0; ; from += batch) {
      const rows = await this.db.manager.find(AuditEvent, { where: { projectId }, order: { seq: "ASC" }, skip: from, take: batch });
      for (const e of rows) {
        checked++;
        if (e.seq !== expectedSeq) return { ok: false, checked, firstBreak: { seq: expectedSeq, eventId: e.id, reason: `event #${expectedSeq} is missing (next is #${e.seq})` } };
        if (e.prevHash !== prev) return { ok: false, checked, firstBreak: { seq: e.seq, eventId: e.id, reason: "prevHash does not match the previous event's hash" } };
        if (eventHash(prev, e) !== e.hash)
          return { ok: false, checked, firstBreak: { seq: e.seq, eventId: e.id, reason: "content does not match its hash (edited after it was written)" } };
        prev = e.hash;
        expectedSeq++;
      }
      if (rows.length < batch) break;
    }
    const head = await this.db.manager.findOneBy(AuditChainHead, { projectId });
    if (head && (head.seq !== expectedSeq - 1 || head.hash !== prev)) {
      return {
        ok: false,
        checked,
        firstBreak: { seq: head.seq, eventId: "", reason: `the chain ends at #${expectedSeq - 1} but its head says #${head.seq}: events were deleted` },
      };
    }
    return { ok: true, checked, firstBreak: null };
  }
}
