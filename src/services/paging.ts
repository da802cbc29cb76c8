import { badInput } from "../errors.js";

/** One page of a keyset-paged list, newest first. */
export interface Page<T> {
  items: T[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf: (item: T) => string;
}

export const MAX_PAGE_SIZE = 500;

/** Opaque cursors: base64url of "<kind>:<key>". */
export function encodeCursor(kind: string, key: string): string {
  return Buffer.from(`${kind}:${key}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, kind: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix) || text.length === prefix.length) throw badInput(`invalid cursor "${cursor}"`);
  return text.slice(prefix.length);
}

export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${n}`);
  return n;
}
