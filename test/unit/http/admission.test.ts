import { describe, expect, it } from "vitest";
import { Admission, NOT_ADMITTED } from "../../../src/http/admission.js";

/** A promise and the function that settles it, to hold an operation open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("GraphQL admission", () => {
  it("lets one caller hold at most half of the slots, so another caller runs at once", async () => {
    const admission = new Admission(4, 10_000);
    const held = gate();
    const busy = Array.from({ length: 10 }, () => admission.run("user:flood", () => held.promise));
    await new Promise((resolve) => setImmediate(resolve));
    expect(admission.usage()).toEqual({ inUse: 2, queued: 8, capacity: 4 });
    await expect(admission.run("user:other", async () => "answered")).resolves.toBe("answered");
    held.open();
    await Promise.all(busy);
    expect(admission.usage()).toEqual({ inUse: 0, queued: 0, capacity: 4 });
  });

  it("refuses an operation that found no slot within the wait limit, and frees the slot of one that threw", async () => {
    const admission = new Admission(1, 50);
    const held = gate();
    const first = admission.run("user:a", () => held.promise);
    await expect(admission.run("user:b", async () => "late")).resolves.toBe(NOT_ADMITTED);
    held.open();
    await first;
    await expect(admission.run("user:a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(admission.run("user:b", async () => "next")).resolves.toBe("next");
  });

  it("gives the place of a caller that hung up while queued to the next one", async () => {
    const admission = new Admission(1, 10_000);
    const held = gate();
    const first = admission.run("user:a", () => held.promise);
    const gone = new AbortController();
    const abandoned = admission.run("user:b", async () => "never", gone.signal);
    gone.abort();
    await expect(abandoned).resolves.toBe(NOT_ADMITTED);
    expect(admission.usage().queued).toBe(0);
    held.open();
    await first;
  });
});
