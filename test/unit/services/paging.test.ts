import { describe, expect, it } from "vitest";
import { createdKey, encodeCursor, keysetPage, seqKey, type KeyRange, type Page } from "../../../src/services/paging.js";

/** Items 10 down to 1, paged the way the deployment history pages (newest first, by seq). */
const ITEMS = Array.from({ length: 10 }, (_, i) => ({ seq: 10 - i }));

/** The range of ITEMS a fetch reads, as a query sorted by seq descending reads it. */
function inRange({ after, before, backward }: KeyRange<number>, limit: number) {
  const within = ITEMS.filter((x) => (after === null || x.seq < after) && (before === null || x.seq > before));
  return (backward ? within.reverse() : within).slice(0, limit);
}

function page(
  first: number | null,
  after: string | null,
  fetched: { limits: number[] } = { limits: [] },
  backward: { last?: number | null; before?: string | null } = {},
): Promise<Page<{ seq: number }>> {
  return keysetPage({
    kind: "t",
    key: seqKey,
    keyOf: (x) => x.seq,
    first,
    defaultSize: 4,
    after,
    ...backward,
    fetch: async (range, limit) => {
      fetched.limits.push(limit);
      return inRange(range, limit);
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

  it("walks back from the end with last and before, and forward again from any page", async () => {
    const seen: number[][] = [];
    let before: string | null = null;
    for (;;) {
      const p: Page<{ seq: number }> = await page(null, null, undefined, { last: 3, before });
      seen.push(p.items.map((x) => x.seq));
      expect(p.hasNextPage).toBe(before !== null);
      if (!p.hasPreviousPage) break;
      before = p.cursorOf(p.items[0]!);
    }
    expect(seen).toEqual([[3, 2, 1], [6, 5, 4], [9, 8, 7], [10]]);
    const middle = await page(null, null, undefined, { last: 3, before: encodeCursor("t", "4") });
    expect(middle.items.map((x) => x.seq)).toEqual([7, 6, 5]);
    const next = await page(2, middle.cursorOf(middle.items.at(-1)!));
    expect(next).toMatchObject({ items: [{ seq: 4 }, { seq: 3 }], hasPreviousPage: true, hasNextPage: true });
    const between = await page(null, encodeCursor("t", "8"), undefined, { last: 10, before: encodeCursor("t", "4") });
    expect(between).toMatchObject({ items: [{ seq: 7 }, { seq: 6 }, { seq: 5 }], hasPreviousPage: true, hasNextPage: true });
  });

  it("says whether items lie on either side of an empty page: first: 0 and last: 0", async () => {
    expect(await page(0, null)).toMatchObject({ items: [], hasNextPage: true, hasPreviousPage: false });
    expect(await page(null, null, undefined, { last: 0 })).toMatchObject({ items: [], hasNextPage: false, hasPreviousPage: true });
    expect(await page(0, encodeCursor("t", "1"))).toMatchObject({ items: [], hasNextPage: false, hasPreviousPage: true });
    expect(await page(null, null, undefined, { last: 0, before: encodeCursor("t", "10") })).toMatchObject({ items: [], hasNextPage: true, hasPreviousPage: false });
  });

  it("refuses first and last together, and last out of range, with BAD_USER_INPUT", async () => {
    await expect(page(3, null, undefined, { last: 3 })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: "first and last cannot be used together: page forward with first and after, or backward with last and before",
    });
    for (const last of [-1, 501, 2.5]) {
      await expect(page(null, null, undefined, { last })).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: `last must be between 0 and 500, got ${last}` });
    }
    await expect(page(null, null, undefined, { last: 2, before: "nope" })).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: 'invalid cursor "nope"' });
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
