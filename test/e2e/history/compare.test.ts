import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { fileAt } from "../../helpers/git.js";
import { COMPARE, type ComparisonView, type DeploymentView, fullHistory } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";

/** Revision comparison: what moving a tenant-environment from one revision to another changes. Nothing here writes. */
describe("compareRevisions", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  let history: DeploymentView[];
  let comparison: ComparisonView;

  beforeAll(async () => {
    history = await fullHistory(t, jane, "acme", "staging");
    const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.revision });
    comparison = data.compareRevisions;
  });

  it("defaults the base to the current revision", () => {
    expect(comparison).toMatchObject({ tenant: "acme", environment: "staging", base: history[0]!.revision, target: history[10]!.revision });
  });

  it("lists per-service field changes that match the files at both revisions", () => {
    expect(comparison.services.length).toBeGreaterThan(0);
    for (const svc of comparison.services) {
      for (const change of svc.changes) {
        expect(change.service).toBe(svc.service);
        if (change.file !== "values.yaml" || change.kind !== "MODIFIED") continue;
        const before = fileAt(t, comparison.base, `tenants/acme/staging/services/${svc.service}/values.yaml`);
        const after = fileAt(t, comparison.target, `tenants/acme/staging/services/${svc.service}/values.yaml`);
        const leaf = change.path.split(".").pop()!;
        expect(before).toMatch(new RegExp(`${leaf}: "?${String(change.before)}"?`));
        expect(after).toMatch(new RegExp(`${leaf}: "?${String(change.after)}"?`));
      }
    }
  });

  it("covers exactly the files Git says differ, each with a unified diff", () => {
    const gitPaths = t.git("demo", "diff", "--name-only", comparison.base, comparison.target, "--", "tenants/acme/staging").split("\n").filter(Boolean).sort();
    const files = comparison.services.flatMap((s) => s.files);
    expect(files.map((f) => f.path).sort()).toEqual(gitPaths);
    for (const f of files) {
      expect(f.kind).toBe("MODIFIED");
      expect(f.patch).toContain(`--- a/${f.path}`);
      expect(f.patch).toContain(`+++ b/${f.path}`);
      expect(f.patch).toMatch(/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/m);
      expect(f.patch).toMatch(/^-[^-]/m);
      expect(f.patch).toMatch(/^\+[^+]/m);
    }
  });

  it("shows the rendered manifest of a changed service changing with it", () => {
    for (const svc of comparison.services) {
      expect(svc.files.map((f) => f.path)).toContain(`tenants/acme/staging/rendered/${svc.service}.yaml`);
    }
  });

  it("counts the impact: services, fields and files", () => {
    const fieldCount = comparison.services.reduce((n, s) => n + s.changes.length, 0) + comparison.environmentChanges.length;
    expect(comparison.impact).toMatchObject({
      services: comparison.services.length,
      fields: fieldCount,
      files: comparison.services.reduce((n, s) => n + s.files.length, 0),
    });
    const bindings = comparison.services.flatMap((s) => s.changes).filter((c) => c.file === "bindings.yaml").length;
    expect(comparison.impact.bindings).toBe(bindings);
    const variables =
      comparison.services.flatMap((s) => s.changes).filter((c) => c.file === "variables.yaml").length +
      comparison.environmentChanges.filter((c) => c.file === "env.yaml" && c.path.startsWith("variables.")).length;
    expect(comparison.impact.variables).toBe(variables);
  });

  it("is empty when comparing the current revision with itself", async () => {
    const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[0]!.revision });
    expect(data.compareRevisions.services).toEqual([]);
    expect(data.compareRevisions.environmentChanges).toEqual([]);
    expect(data.compareRevisions.impact).toEqual({ services: 0, bindings: 0, variables: 0, fields: 0, files: 0 });
  });

  it("takes an explicit base, and swapping base and target swaps before and after", async () => {
    const forward = comparison;
    const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, {
      p: "demo",
      t: "acme",
      e: "staging",
      target: history[0]!.revision,
      base: history[10]!.revision,
    });
    const backward = data.compareRevisions;
    expect(backward.base).toBe(history[10]!.revision);
    expect(backward.target).toBe(history[0]!.revision);
    const flip = (c: { service: string | null; file: string; path: string; kind: string; before: unknown; after: unknown }) => ({ ...c, before: c.after, after: c.before });
    const norm = (list: { service: string | null; file: string; path: string; kind: string; before: unknown; after: unknown }[]) =>
      list.map(({ kind: _kind, ...rest }) => rest).sort((a, b) => `${a.service}${a.file}${a.path}`.localeCompare(`${b.service}${b.file}${b.path}`));
    expect(norm(backward.services.flatMap((s) => s.changes))).toEqual(norm(forward.services.flatMap((s) => s.changes).map(flip)));
    expect(backward.impact).toEqual(forward.impact);
  });

  it("accepts an abbreviated revision", async () => {
    const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.shortRevision });
    expect(data.compareRevisions.target).toBe(history[10]!.revision);
    expect(data.compareRevisions.impact).toEqual(comparison.impact);
  });

  it("refuses a revision that is not a commit with BAD_USER_INPUT 400", async () => {
    for (const target of ["deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", "not-a-sha"]) {
      const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target });
      expectError(res, "BAD_USER_INPUT", 400, /revision/i);
    }
  });

  it("refuses a bad base revision with BAD_USER_INPUT 400", async () => {
    const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[3]!.revision, base: "0000000000000000000000000000000000000000" });
    expectError(res, "BAD_USER_INPUT", 400, /revision/i);
  });

  it("refuses an empty target with BAD_USER_INPUT 400", async () => {
    const res = await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: "" });
    expectError(res, "BAD_USER_INPUT", 400);
  });

  it("answers NOT_FOUND 404 for an unknown tenant or environment", async () => {
    expectError(await t.gql(jane, COMPARE, { p: "demo", t: "initech", e: "staging", target: history[3]!.revision }), "NOT_FOUND", 404);
    expectError(await t.gql(jane, COMPARE, { p: "demo", t: "acme", e: "qa", target: history[3]!.revision }), "NOT_FOUND", 404);
  });
});
