import type { ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { badInput } from "../errors.js";

/** One page of a keyset-paged list. */
export interface Page<T> {
  items: T[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf: (item: T) => string;
}

export const MAX_PAGE_SIZE = 500;

/** How a list's sort key is written into a cursor and read back (null: not a key of this list). */
export interface CursorKey<K> {
  encode(key: K): string;
  decode(text: string): K | null;
}

/** Sequence numbers: deployments of a tenant-environment, audit events of a project. */
export const seqKey: CursorKey<number> = {
  encode: (seq) => String(seq),
  decode: (text) => (/^\d+$/.test(text) ? Number(text) : null),
};

/** Creation time and id: rollback requests, newest first, ties broken by id. */
export const createdKey: CursorKey<{ at: Date; id: string }> = {
  encode: ({ at, id }) => `${at.toISOString()}|${id}`,
  decode: (text) => {
    const [at, id, ...rest] = text.split("|");
    if (!at || !id || rest.length > 0 || Number.isNaN(new Date(at).getTime())) return null;
    return { at: new Date(at), id };
  },
};

/** The arguments of a Relay connection: forward with first/after, backward with last/before. */
export interface PageRequest {
  /** Null when the caller did not give it (the schema's default is not a choice to page forward). */
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Only the paging arguments of a filter. */
export function pageRequest({ first, after, last, before }: PageRequest): PageRequest {
  return { first, after, last, before };
}

/** Which part of the list a fetch reads: strictly between the bounds, from `after` on or (backward) from `before` back. */
export interface KeyRange<K> {
  after: K | null;
  before: K | null;
  /** True: the items closest to `before` (or the end of the list) first, against list order. */
  backward: boolean;
}

export interface KeysetQuery<T, K> extends PageRequest {
  /** Names the list in its cursors, so a cursor of another list is refused. */
  kind: string;
  key: CursorKey<K>;
  keyOf: (item: T) => K;
  /** The page size when neither `first` nor `last` is given. */
  defaultSize?: number;
  /** Up to `limit` items of the range: in list order, or in reverse list order when the range is backward. */
  fetch: (range: KeyRange<K>, limit: number) => Promise<T[]>;
  /** How many items the whole (filtered) list has. */
  count: () => Promise<number>;
  /** Completes the items of the page (fetch may return keys only, so the extra item it reads to see whether there is a next page costs little). */
  expand?: (items: T[]) => Promise<T[]>;
}

/**
 * One page of a list ordered by a unique key: `after` continues right after the item its cursor
 * names and `before` right before it, so a page costs the same however deep it is. Every list
 * pages through here, so every list validates its sizes and cursors the same way (BAD_USER_INPUT).
 * The item a cursor names is taken to still exist (none of these lists deletes items), so a
 * cursor on one side means there is a page on that side.
 */
export async function keysetPage<T, K>(q: KeysetQuery<T, K>): Promise<Page<T>> {
  if (q.first != null && q.last != null) throw badInput("first and last cannot be used together: page forward with first and after, or backward with last and before");
  const backward = q.last != null;
  const size = backward ? pageSize(q.last, q.defaultSize, "last") : pageSize(q.first, q.defaultSize);
  const after = q.after ? decodeCursor(q.after, q.kind, q.key) : null;
  const before = q.before ? decodeCursor(q.before, q.kind, q.key) : null;
  const rows = await q.fetch({ after, before, backward }, size + 1);
  const more = rows.length > size;
  const page = backward ? rows.slice(0, size).reverse() : rows.slice(0, size);
  return {
    items: q.expand && page.length > 0 ? await q.expand(page) : page,
    totalCount: await q.count(),
    hasNextPage: (!backward && more) || before !== null,
    hasPreviousPage: (backward && more) || after !== null,
    cursorOf: (item) => encodeCursor(q.kind, q.key.encode(q.keyOf(item))),
  };
}

/** Adds a range's bounds and order to a query of a list sorted by a unique number `column`, highest first (newest first by seq). */
export function descendingBy<Q extends SelectQueryBuilder<ObjectLiteral>>(qb: Q, column: string, range: KeyRange<number>): Q {
  if (range.after !== null) qb.andWhere(`${column} < :afterKey`, { afterKey: range.after });
  if (range.before !== null) qb.andWhere(`${column} > :beforeKey`, { beforeKey: range.before });
  qb.orderBy(column, range.backward ? "ASC" : "DESC");
  return qb;
}

/** Opaque cursors: base64url of "<kind>:<key>". */
export function encodeCursor(kind: string, key: string): string {
  return Buffer.from(`${kind}:${key}`, "utf8").toString("base64url");
}

/** The key a cursor of this list names; BAD_USER_INPUT for anything it did not issue. */
export function decodeCursor<K>(cursor: string, kind: string, key: CursorKey<K>): K {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const prefix = `${kind}:`;
  const decoded = text.startsWith(prefix) ? key.decode(text.slice(prefix.length)) : null;
  if (decoded === null) throw badInput(`invalid cursor "${cursor}"`);
  return decoded;
}

export function pageSize(size: number | null | undefined, fallback = 20, name: "first" | "last" = "first"): number {
  const n = size ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw badInput(`${name} must be between 0 and ${MAX_PAGE_SIZE}, got ${n}`);
  return n;
}
