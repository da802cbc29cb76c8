import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectOnlyTouched } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { setFeatures } from "../../helpers/fixtures.js";
import { head } from "../../helpers/git.js";
import {
  auditCount,
  deploy,
  justified,
  previewOk,
  previewRollback,
  recentDeployments,
  requestRollback,
  type RollbackInputVars,
  rollbackOk,
  rollbackRequestCount,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/**
 * The plan and feature gates, row by row on the seeded organizations (acme-corp
 * ENTERPRISE, midsize PRO, startup FREE) and, for the flags, on an organization whose flags are
 * switched off: a refused mode is FORBIDDEN 403 for preview and request alike, names the plan or
 * flag it lacks, and writes nothing.
 */

type Mode = "FULL" | "SERVICE" | "FIELD";

const ORGS = [
  { project: "demo", org: "acme-corp", plan: "ENTERPRISE", allowed: { FULL: true, SERVICE: true, FIELD: true } },
  { project: "pro", org: "midsize", plan: "PRO", allowed: { FULL: true, SERVICE: true, FIELD: false } },
  { project: "starter", org: "startup", plan: "FREE", allowed: { FULL: true, SERVICE: false, FIELD: false } },
] as const;

/** What a refusal must name: the plans that would allow the mode, and the flag the organization lacks. */
const MUST_NAME: Record<string, Partial<Record<Mode, string[]>>> = {
  starter: { SERVICE: ["PRO", "ENTERPRISE", "selective_rollback"], FIELD: ["ENTERPRISE", "selective_rollback"] },
  pro: { FIELD: ["ENTERPRISE"] },
};

const BLAST: Record<Mode, string> = { FULL: "HIGH", SERVICE: "MEDIUM", FIELD: "MINIMAL" };
const SVC = "api-gateway";

describe("plan and feature gates", () => {
  const t = useTestServer();
  let jane: string;
  let counter = 0;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  /**
   * A fresh change to roll back in globex/dev of `project` (no approval there in any seeded
   * organization): the input rolls the new deployment back to the one before it.
   */
  async function freshInput(project: string, mode: Mode): Promise<RollbackInputVars> {
    const where = { project, tenant: "globex", environment: "dev" };
    const target = (await recentDeployments(t, jane, "globex", "dev", 1, project))[0]!.revision;
    await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": `v9.${++counter}.0` } });
    return {
      ...where,
      mode,
      targetSha: target,
      ...(mode === "FULL" ? {} : { service: SVC }),
      ...(mode === "FIELD" ? { fields: ["image.tag"] } : {}),
    };
  }

  async function expectAllowed(input: RollbackInputVars): Promise<void> {
    const p = await previewOk(t, jane, input);
    expect(p.mode).toBe(input.mode);
    expect(p.blastRadius).toBe(BLAST[input.mode]);
    expect(p.affectedServices).toEqual([SVC]);
    const r = await rollbackOk(t, jane, input);
    const dir = `tenants/${input.tenant}/${input.environment}`;
    expectOnlyTouched(t, r.commitSha, [`${dir}/rendered/${SVC}.yaml`, `${dir}/services/${SVC}/values.yaml`], input.project);
  }

  async function expectRefused(input: RollbackInputVars, mustName: string[]): Promise<string[]> {
    const headBefore = head(t, input.project);
    const countBefore = await rollbackRequestCount(t, jane, input.project);
    const auditBefore = await auditCount(t, jane, input.project);
    const messages: string[] = [];
    for (const res of [await previewRollback(t, jane, input), await requestRollback(t, jane, justified(input))]) {
      const message = expectError(res, "FORBIDDEN", 403).message;
      for (const name of mustName) expect(message).toContain(name);
      messages.push(message);
    }
    // Nothing written: the branch did not move, no rollback request exists, no audit event was appended.
    expect(head(t, input.project)).toBe(headBefore);
    expect(await rollbackRequestCount(t, jane, input.project)).toBe(countBefore);
    expect(await auditCount(t, jane, input.project)).toBe(auditBefore);
    return messages;
  }

  for (const row of ORGS) {
    for (const mode of ["FULL", "SERVICE", "FIELD"] as const) {
      const allowed = row.allowed[mode];
      it(`${mode} on ${row.plan} (${row.org}/${row.project}): ${allowed ? "allowed" : "FORBIDDEN"} for preview and request`, async () => {
        const input = await freshInput(row.project, mode);
        if (allowed) await expectAllowed(input);
        else await expectRefused(input, MUST_NAME[row.project]![mode]!);
      });
    }
  }

  it("the organizations are on the plans and flags the rows assume", async () => {
    const q = `query($p: String!) { project(slug: $p) { organization { slug plan features } } }`;
    for (const row of ORGS) {
      const data = await t.ok<{ project: { organization: { slug: string; plan: string; features: string[] } } }>(t.tokens["jane@example.com"]!, q, { p: row.project });
      expect(data.project.organization).toMatchObject({ slug: row.org, plan: row.plan });
      expect(data.project.organization.features).toEqual(expect.arrayContaining(["basic_rollback", "rollback"]));
      expect(data.project.organization.features.includes("selective_rollback")).toBe(row.plan !== "FREE");
    }
  });

  describe("feature flags on an ENTERPRISE organization", () => {
    const ALL = ["basic_rollback", "rollback", "selective_rollback", "rollback_approval"];

    afterAll(async () => {
      await setFeatures(t, "acme-corp", ALL);
    });

    it("without selective_rollback: SERVICE and FIELD are refused naming the flag (not a plan); FULL still works", async () => {
      await setFeatures(
        t,
        "acme-corp",
        ALL.filter((f) => f !== "selective_rollback"),
      );
      for (const mode of ["SERVICE", "FIELD"] as const) {
        const [message] = await expectRefused(await freshInput("demo", mode), ["selective_rollback"]);
        expect(message).not.toMatch(/\bplan\b/i);
      }
      await expectAllowed(await freshInput("demo", "FULL"));
    });

    it("without basic_rollback: FULL is refused naming the flag; SERVICE and FIELD still work", async () => {
      await setFeatures(
        t,
        "acme-corp",
        ALL.filter((f) => f !== "basic_rollback"),
      );
      await expectRefused(await freshInput("demo", "FULL"), ["basic_rollback"]);
      await expectAllowed(await freshInput("demo", "SERVICE"));
      await expectAllowed(await freshInput("demo", "FIELD"));
    });

    it("without rollback: every mode is refused naming the flag", async () => {
      await setFeatures(
        t,
        "acme-corp",
        ALL.filter((f) => f !== "rollback"),
      );
      for (const mode of ["FULL", "SERVICE", "FIELD"] as const) {
        const messages = await expectRefused(await freshInput("demo", mode), []);
        // The flag `rollback` itself (not only the word in "<MODE> rollback", nor another flag's name).
        for (const m of messages) expect(m.replace(/\b(FULL|SERVICE|FIELD) rollback\b/gi, "")).toMatch(/\brollback\b(?!_)/);
      }
    });

    it("with every flag back: all three modes work again", async () => {
      await setFeatures(t, "acme-corp", ALL);
      for (const mode of ["FULL", "SERVICE", "FIELD"] as const) await expectAllowed(await freshInput("demo", mode));
    });
  });
});
