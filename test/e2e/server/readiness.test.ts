import { describe, expect, it } from "vitest";
import { eventually } from "../../helpers/assertions.js";
import { useTestServer } from "../../helpers/server.js";

interface ReadyBody {
  status: string;
  checks: Record<string, string>;
  checkedAt: string;
  ageMs: number;
}

async function readyz(url: string): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** /readyz answers from a background check refreshed about every second, and says how old its answer is. */
describe("readiness", () => {
  const t = useTestServer();

  it("answers with the newest check's result, its time and its age", async () => {
    const { status, body } = await readyz(t.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ready", checks: { database: "ok", git: "ok" } });
    expect(new Date(body.checkedAt).toISOString()).toBe(body.checkedAt);
    expect(body.ageMs).toBeGreaterThanOrEqual(0);
    expect(Date.now() - new Date(body.checkedAt).getTime()).toBeGreaterThanOrEqual(body.ageMs - 50);
  });

  it("refreshes the check in the background", async () => {
    const first = (await readyz(t.url)).body.checkedAt;
    const later = await eventually(
      async () => {
        const { body } = await readyz(t.url);
        return body.checkedAt > first ? body : undefined;
      },
      "a newer check",
      10_000,
    );
    expect(later.status).toBe("ready");
  });

  it("reports a failing probe as not ready (503) with its reason, and ready again once it passes", async () => {
    let failing = true;
    const check = {
      name: "extra",
      probe: async () => {
        if (failing) throw new Error("the extra dependency is down\nwith details that stay out");
      },
    };
    t.app.readinessChecks.push(check);
    try {
      // The background check refreshes every second: the answer follows within a few.
      const answering = (status: number, what: string) =>
        eventually(
          async () => {
            const r = await readyz(t.url);
            return r.status === status ? r : undefined;
          },
          what,
          10_000,
        );
      const down = await answering(503, "not ready");
      expect(down.body).toMatchObject({ status: "not ready", checks: { database: "ok", git: "ok", extra: "the extra dependency is down" } });
      failing = false;
      const up = await answering(200, "ready again");
      expect(up.body.checks).toEqual({ database: "ok", git: "ok", extra: "ok" });
    } finally {
      t.app.readinessChecks.splice(t.app.readinessChecks.indexOf(check), 1);
    }
  });
});
