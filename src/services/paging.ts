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

export interface KeysetQuery<T, K> {
  /** Names the list in its cursors, so a cursor of another list is refused. */
  kind: string;
  key: CursorKey<K>;
  keyOf: (item: T) => K;
  first: number | null | undefined;
  /** The page size when `first` is not given. */
  defaultSize?: number;
  after: string | null | undefined;
  /** Up to `limit` items that come after `after` (null: from the start), in list order. */
  fetch: (after: K | null, limit: number) => Promise<T[]>;
  /** How many items the whole (filtered) list has. */
  count: () => Promise<number>;
  /** Completes the items of the page (fetch may return keys only, so the extra item it reads to see whether there is a next page costs little). */
  expand?: (items: T[]) => Promise<T[]>;
}

/**
 * One page of a list ordered by a unique key: `after` continues right after the item its cursor
 * names, so a page costs the same however deep it is. Every list pages through here, so every list
 * validates `first` and its cursors the same way (BAD_USER_INPUT).
 */
export async function keysetPage<T, K>(q: KeysetQuery<T, K>): Promise<Page<T>> {
  const first = pageSize(q.first, q.defaultSize);
  const after = q.after ? decodeCursor(q.after, q.kind, q.key) : null;
  const rows = await q.fetch(after, first + 1);
  const page = rows.slice(0, first);
  return {
    items: q.expand && page.length > 0 ? await q.expand(page) : page,
    totalCount: await q.count(),
    hasNextPage: rows.length > first,
    hasPreviousPage: after !== null,
    cursorOf: (item) => encodeCursor(q.kind, q.key.encode(q.keyOf(item))),
  };
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

export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${n}`);
  return n;
}
