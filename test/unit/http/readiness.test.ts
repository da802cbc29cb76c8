import { describe, expect, it } from "vitest";
import { Readiness } from "../../../src/http/readiness.js";

describe("readiness from a background check", () => {
  it("is not ready before the first check has finished", () => {
    const r = new Readiness(() => []);
    expect(r.answer()).toMatchObject({ status: 503, body: { status: "not ready", checkedAt: null, ageMs: null } });
  });

  it("answers with the last result and its age", async () => {
    const r = new Readiness(() => [{ name: "database", probe: async () => undefined }]);
    await r.refresh();
    const checkedAt = Date.parse(r.answer().body.checkedAt!);
    expect(r.answer(checkedAt + 250)).toEqual({ status: 200, body: { status: "ready", checks: { database: "ok" }, checkedAt: new Date(checkedAt).toISOString(), ageMs: 250 } });
  });

  it("turns not ready when the checks stop finishing (a hung probe), naming how old the last result is", async () => {
    let hang = false;
    const r = new Readiness(() => [{ name: "database", probe: () => (hang ? new Promise(() => undefined) : Promise.resolve()) }], { intervalMs: 1000, staleAfterMs: 5000 });
    await r.refresh();
    hang = true;
    void r.refresh();
    const checkedAt = Date.parse(r.answer().body.checkedAt!);
    expect(r.answer(checkedAt + 4000).status).toBe(200);
    expect(r.answer(checkedAt + 6000)).toMatchObject({
      status: 503,
      body: { status: "not ready", checks: { database: "ok", freshness: "the last check finished 6000 ms ago" }, ageMs: 6000 },
    });
  });

  it("never runs two rounds of the probes at once", async () => {
    let calls = 0;
    let release!: () => void;
    const r = new Readiness(() => [{ name: "slow", probe: () => (calls++, new Promise<void>((resolve) => (release = resolve))) }]);
    const a = r.refresh();
    const b = r.refresh();
    release();
    await Promise.all([a, b]);
    expect(calls).toBe(1);
  });
});
