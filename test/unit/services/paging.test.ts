import { describe, expect, it } from "vitest";
import { createdKey, encodeCursor, keysetPage, seqKey, type Page } from "../../../src/services/paging.js";

/** Items 10 down to 1, paged the way the deployment history pages (newest first, by seq). */
const ITEMS = Array.from({ length: 10 }, (_, i) => ({ seq: 10 - i }));

function page(first: number | null, after: string | null, fetched: { limits: number[] } = { limits: [] }): Promise<Page<{ seq: number }>> {
  return keysetPage({
    kind: "t",
    key: seqKey,
    keyOf: (x) => x.seq,
    first,
    defaultSize: 4,
    after,
    fetch: async (afterSeq, limit) => {
      fetched.limits.push(limit);
      return ITEMS.filter((x) => afterSeq === null || x.seq < afterSeq).slice(0, limit);
    },
    count: async () => ITEMS.length,
  });
}

describe("keysetPage", () => {
  it("walks a list in pages with cursors, without gaps or duplicates", async () => {
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const p: Page<{ seq: number }> = await page(3, after);
      pages++;
      expect(p.totalCount).toBe(10);
      expect(p.hasPreviousPage).toBe(after !== null);
      seen.push(...p.items.map((x) => x.seq));
      if (!p.hasNextPage) break;
      after = p.cursorOf(p.items.at(-1)!);
    }
    expect(pages).toBe(4);
    expect(seen).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it("reads one item more than the page to know whether there is a next page, also for first: 0", async () => {
    const fetched = { limits: [] as number[] };
    const empty = await page(0, null, fetched);
    expect(empty).toMatchObject({ items: [], totalCount: 10, hasNextPage: true, hasPreviousPage: false });
    const byDefault = await page(null, null, fetched);
    expect(byDefault.items.map((x) => x.seq)).toEqual([10, 9, 8, 7]);
    expect(fetched.limits).toEqual([1, 5]);
  });

  it("refuses cursors it did not issue and page sizes out of range with BAD_USER_INPUT", async () => {
    for (const after of [encodeCursor("other", "5"), encodeCursor("t", "abc"), encodeCursor("t", "-1"), encodeCursor("t", ""), "not a cursor"]) {
      await expect(page(3, after)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: `invalid cursor "${after}"` });
    }
    for (const first of [-1, 501, 2.5]) {
      await expect(page(first, null)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: `first must be between 0 and 500, got ${first}` });
    }
  });

  it("completes only the items of the page when the fetch reads keys", async () => {
    const expanded: number[][] = [];
    const p = await keysetPage({
      kind: "t",
      key: seqKey,
      keyOf: (x: { seq: number; full?: boolean }) => x.seq,
      first: 2,
      after: null,
      fetch: async (_after, limit) => ITEMS.slice(0, limit),
      count: async () => ITEMS.length,
      expand: async (items) => {
        expanded.push(items.map((x) => x.seq));
        return items.map((x) => ({ ...x, full: true }));
      },
    });
    expect(expanded).toEqual([[10, 9]]);
    expect(p.items).toEqual([
      { seq: 10, full: true },
      { seq: 9, full: true },
    ]);
    expect(p.hasNextPage).toBe(true);
  });
});

describe("cursor keys", () => {
  it("write and read back sequence numbers and (creation time, id) pairs, and nothing else", () => {
    expect(seqKey.decode(seqKey.encode(42))).toBe(42);
    expect(seqKey.decode("4.2")).toBeNull();
    const key = { at: new Date("2024-05-01T10:00:00.000Z"), id: "rbk-abc" };
    expect(createdKey.decode(createdKey.encode(key))).toEqual(key);
    for (const bad of ["2024-05-01T10:00:00.000Z", "|rbk-abc", "not a date|rbk-abc", "2024-05-01T10:00:00.000Z|a|b"]) expect(createdKey.decode(bad), bad).toBeNull();
  });
});
