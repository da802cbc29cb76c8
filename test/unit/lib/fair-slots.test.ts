import { describe, expect, it } from "vitest";
import { FairSlots } from "../../../src/lib/fair-slots.js";

describe("FairSlots", () => {
  it("lets one key hold at most its share, so another key gets a slot at once", async () => {
    const slots = new FairSlots(4, 2);
    const a1 = await slots.acquire("a", 1000);
    const a2 = await slots.acquire("a", 1000);
    expect(a1 && a2).toBeTruthy();
    // A third for "a" waits, though two slots are free; "b" is served at once.
    const a3 = slots.acquire("a", 10_000);
    const b1 = await slots.acquire("b", 1000);
    expect(b1).toBeTypeOf("function");
    expect(slots.usage()).toEqual({ inUse: 3, queued: 1 });
    a1!();
    expect(await a3).toBeTypeOf("function");
    expect(slots.usage()).toEqual({ inUse: 3, queued: 0 });
  });

  it("serves waiters in arrival order among the keys under their share", async () => {
    const slots = new FairSlots(2, 2);
    const held = [await slots.acquire("a", 1000), await slots.acquire("a", 1000)];
    const order: string[] = [];
    const waiters = [slots.acquire("a", 5000), slots.acquire("b", 5000), slots.acquire("c", 5000)].map((p, i) =>
      p.then((release) => {
        order.push(["a", "b", "c"][i]!);
        return release;
      }),
    );
    held[0]!();
    held[1]!();
    const releases = await Promise.all(waiters.slice(0, 2));
    expect(order).toEqual(["a", "b"]);
    releases[0]!();
    await waiters[2];
    expect(order).toEqual(["a", "b", "c"]);
  });

  it("gives up after the wait limit or when the caller aborts, and the slot count stays right", async () => {
    const slots = new FairSlots(1, 1);
    const held = await slots.acquire("a", 1000);
    expect(await slots.acquire("b", 20)).toBeNull();
    const gone = new AbortController();
    const waiting = slots.acquire("b", 10_000, gone.signal);
    gone.abort();
    expect(await waiting).toBeNull();
    expect(slots.usage()).toEqual({ inUse: 1, queued: 0 });
    held!();
    held!(); // releasing twice frees one slot only
    expect(slots.usage()).toEqual({ inUse: 0, queued: 0 });
    expect(await slots.acquire("b", 20)).toBeTypeOf("function");
  });
});
