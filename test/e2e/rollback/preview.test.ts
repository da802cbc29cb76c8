import { beforeAll, describe, expect, it } from "vitest";
import { expectPreviewEqualsCommit, previewChanges, previewFiles } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { createTenant, importFiles } from "../../helpers/fixtures.js";
import { entryId, fileOrNull, head, rawCommitMessage } from "../../helpers/git.js";
import {
  COMPARE,
  type ComparisonView,
  deploy,
  type DeploymentView,
  fullHistory,
  justified,
  previewOk,
  previewRollback,
  type PreviewView,
  recentDeployments,
  requestRollback,
  type RollbackInputVars,
  rollbackOk,
  rollbackRequestCount,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { envYaml, plainService, trickyService } from "../../helpers/yaml-fixtures.js";

/**
 * previewRollback shows exactly the commit that executing the same input writes: for each mode,
 * preview and then requestRollback; the commit's diff must be the preview, file by file (paths,
 * kinds, and each patch turning the commit's parent into the commit), and the rollback
 * deployment's field changes must be the preview's. A preview writes nothing.
 */
describe("previewRollback FULL on the demo", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  let history: DeploymentView[];
  let result: PreviewView;
  let headBefore: string;
  let requestsBefore: number;

  beforeAll(async () => {
    history = await fullHistory(t, jane, "acme", "staging");
    headBefore = head(t);
    requestsBefore = await rollbackRequestCount(t, jane);
    const res = await previewRollback(t, jane, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[10]!.revision });
    expect(res.errors).toBeUndefined();
    result = res.data!.previewRollback;
  });

  it("names the mode, the target and the revision it was computed against", () => {
    expect(result).toMatchObject({ mode: "FULL", targetSha: history[10]!.revision, baseSha: history[0]!.revision });
  });

  it("shows blast radius HIGH and no approval needed in staging", () => {
    expect(result).toMatchObject({ blastRadius: "HIGH", approvalRequired: false, requiredApprovals: 0, breakGlassActive: false });
  });

  it("shows the same per-service changes, diffs and impact as comparing the current revision with the target", async () => {
    const data = await t.ok<{ compareRevisions: ComparisonView }>(jane, COMPARE, { p: "demo", t: "acme", e: "staging", target: history[10]!.revision });
    expect(result.services).toEqual(data.compareRevisions.services);
    expect(result.environmentChanges).toEqual(data.compareRevisions.environmentChanges);
    expect(result.impact).toEqual(data.compareRevisions.impact);
    expect(result.impact.services).toBeGreaterThan(0);
  });

  it("writes nothing: the branch head, the history and the rollback requests are unchanged", async () => {
    expect(head(t)).toBe(headBefore);
    expect((await fullHistory(t, jane, "acme", "staging")).map((d) => `${d.id}:${d.status}`)).toEqual(history.map((d) => `${d.id}:${d.status}`));
    expect(await rollbackRequestCount(t, jane)).toBe(requestsBefore);
  });

  it("says production needs one approval", async () => {
    const prod = await fullHistory(t, jane, "acme", "production");
    const res = await previewRollback(t, jane, { project: "demo", tenant: "acme", environment: "production", mode: "FULL", targetSha: prod[1]!.revision });
    expect(res.errors).toBeUndefined();
    expect(res.data!.previewRollback).toMatchObject({ approvalRequired: true, requiredApprovals: 1, blastRadius: "HIGH" });
    // The bad api-gateway tag is what rolling back one deployment undoes.
    const gateway = res.data!.previewRollback.services.find((s) => s.service === "api-gateway")!;
    expect(gateway.changes).toContainEqual(expect.objectContaining({ path: "image.tag", before: "v2.1.0" }));
  });

  it("is open to a VIEWER", async () => {
    const res = await previewRollback(t, tokenOf(t, "victor"), { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[5]!.revision });
    expect(res.errors).toBeUndefined();
    expect(res.data!.previewRollback.targetSha).toBe(history[5]!.revision);
  });

  it("accepts an abbreviated target revision and reports the full sha", async () => {
    const res = await previewRollback(t, jane, { project: "demo", tenant: "acme", environment: "staging", mode: "FULL", targetSha: history[10]!.shortRevision });
    expect(res.errors).toBeUndefined();
    expect(res.data!.previewRollback.targetSha).toBe(history[10]!.revision);
  });

  it("previews the rollback whose result is the target's directory", () => {
    // Every file the preview lists differs between the current and the target directory, and nothing else does.
    const listed = result.services.flatMap((s) => s.files.map((f) => f.path)).sort();
    const differing = t.git("demo", "diff", "--name-only", history[0]!.revision, history[10]!.revision, "--", "tenants/acme/staging").split("\n").filter(Boolean).sort();
    expect(listed).toEqual(differing);
    expect(entryId(t, history[10]!.revision, "tenants/acme/staging")).not.toBe(entryId(t, history[0]!.revision, "tenants/acme/staging"));
  });
});

const P = "demo";
const TENANT = "previewtest";
const ENV = "dev";
const DIR = `tenants/${TENANT}/${ENV}`;
const SVC = "api-gateway";
const WHERE = { project: P, tenant: TENANT, environment: ENV };

describe("previews equal the commit, in every mode", () => {
  const t = useTestServer();
  let jane: string;
  let target: string;

  /** Preview, check it wrote nothing, execute the same input, check the commit is the preview. */
  async function previewThenExecute(input: RollbackInputVars): Promise<{ preview: PreviewView; sha: string }> {
    const headBefore = head(t, P);
    const countBefore = await rollbackRequestCount(t, jane, P);
    const p = await previewOk(t, jane, input);
    // A preview writes nothing and is deterministic.
    expect(head(t, P)).toBe(headBefore);
    expect(await rollbackRequestCount(t, jane, P)).toBe(countBefore);
    expect(await previewOk(t, jane, input)).toEqual(p);
    expect(p.headSha).toBe(headBefore);
    expect(p.targetSha).toBe(target);
    expect(p.baseSha).toBe((await recentDeployments(t, jane, TENANT, ENV, 1, P))[0]!.revision);

    const r = await rollbackOk(t, jane, input);
    expectPreviewEqualsCommit(t, p, r.commitSha, P);
    expect(r.affectedServices).toEqual(p.affectedServices);
    expect(p.affectedServices).toEqual(p.services.map((s) => s.service));
    // The rollback deployment records the same field changes the preview showed.
    const [deployment] = await recentDeployments(t, jane, TENANT, ENV, 1, P);
    expect(deployment!.revision).toBe(r.commitSha);
    expect(deployment!.source).toBe("ROLLBACK");
    expect(sortChanges(deployment!.changes)).toEqual(sortChanges(previewChanges(p)));
    return { preview: p, sha: r.commitSha };
  }

  function sortChanges<T extends { service: string | null; file: string; path: string }>(list: T[]): T[] {
    return [...list].sort((a, b) => `${a.service}/${a.file}/${a.path}`.localeCompare(`${b.service}/${b.file}/${b.path}`));
  }

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    await createTenant(t, P, TENANT, [ENV]);
    target = await importFiles(t, P, TENANT, ENV, {
      ...envYaml(TENANT, ENV),
      ...trickyService(SVC),
      ...plainService("auth"),
      ...plainService("web"),
    });
    await deploy(t, jane, { ...WHERE, service: SVC, set: { "image.tag": "v2.0.0", replicas: 5, "variables:LOG_LEVEL": "debug", "bindings:kustomize.path": "k/v2" } });
    await deploy(t, jane, { ...WHERE, service: "auth", set: { replicas: 3, "variables:FEATURE_NEW_CHECKOUT": "true", "image.tag": "v1.2.0" } });
    const values = fileOrNull(t, head(t, P), `${DIR}/services/${SVC}/values.yaml`, P)!
      .replace("port: 8080\n", "port: 8080\nextra:    true   # added after the target\n")
      .replace("probes:\n  path: /healthz   # readiness\n", "");
    await importFiles(
      t,
      P,
      TENANT,
      ENV,
      { ...envYaml(TENANT, ENV, "us-east-1"), [`services/${SVC}/values.yaml`]: values, "services/web/extra.txt": "added after the target\n" },
      "Hand edits",
    );
  });

  it("FIELD: only the selected fields appear, blast radius MINIMAL, and the commit is the preview", async () => {
    const input: RollbackInputVars = { ...WHERE, mode: "FIELD", targetSha: target, service: SVC, fields: ["image.tag", "extra", "probes", "variables:LOG_LEVEL"] };
    const { preview: p, sha } = await previewThenExecute(input);
    expect(p.blastRadius).toBe("MINIMAL");
    expect(p.mode).toBe("FIELD");
    expect(p.environmentChanges).toEqual([]);
    expect(p.environmentFiles).toEqual([]);
    expect(p.services.map((s) => s.service)).toEqual([SVC]);
    const changes = p.services[0]!.changes.map((c) => ({ file: c.file, path: c.path, kind: c.kind, before: c.before, after: c.after, selector: c.selector }));
    expect(sortChanges(changes.map((c) => ({ ...c, service: SVC })))).toEqual(
      sortChanges([
        { service: SVC, file: "values.yaml", path: "image.tag", kind: "MODIFIED", before: "v2.0.0", after: "v1.4.2", selector: "image.tag" },
        { service: SVC, file: "values.yaml", path: "extra", kind: "REMOVED", before: true, after: null, selector: "extra" },
        { service: SVC, file: "values.yaml", path: "probes.path", kind: "ADDED", before: null, after: "/healthz", selector: "probes.path" },
        { service: SVC, file: "variables.yaml", path: "LOG_LEVEL", kind: "MODIFIED", before: "debug", after: "info", selector: "variables:LOG_LEVEL" },
      ]),
    );
    expect(p.impact).toEqual({ services: 1, bindings: 0, variables: 1, fields: 4, files: 3 });
    expect(
      previewFiles(p)
        .map((f) => f.path)
        .sort(),
    ).toEqual([`${DIR}/rendered/${SVC}.yaml`, `${DIR}/services/${SVC}/values.yaml`, `${DIR}/services/${SVC}/variables.yaml`]);
    expect(rawCommitMessage(t, sha, P)).toContain(`\nMode: field\nService: ${SVC}\nFields: image.tag, extra, probes, variables:LOG_LEVEL\n`);
  });

  it("SERVICE: only that service's files, blast radius MEDIUM, and the commit is the preview", async () => {
    const input: RollbackInputVars = { ...WHERE, mode: "SERVICE", targetSha: target, service: "auth" };
    const { preview: p, sha } = await previewThenExecute(input);
    expect(p.blastRadius).toBe("MEDIUM");
    expect(p.services.map((s) => s.service)).toEqual(["auth"]);
    expect(p.environmentChanges).toEqual([]);
    expect(p.impact).toEqual({ services: 1, bindings: 0, variables: 1, fields: 3, files: 3 });
    expect(rawCommitMessage(t, sha, P)).toContain("\nMode: service\nService: auth\nJustification:");
  });

  it("FULL: every service and env.yaml, blast radius HIGH, and the commit is the preview", async () => {
    const input: RollbackInputVars = { ...WHERE, mode: "FULL", targetSha: target };
    const { preview: p, sha } = await previewThenExecute(input);
    expect(p.blastRadius).toBe("HIGH");
    // What is still different after the FIELD and SERVICE rollbacks: api-gateway's replicas and binding, web's new file, env.yaml.
    expect(p.services.map((s) => s.service)).toEqual([SVC, "web"]);
    expect(p.environmentChanges).toEqual([
      { service: null, file: "env.yaml", path: "variables.REGION", kind: "MODIFIED", before: "us-east-1", after: "eu-west-1", selector: null },
    ]);
    expect(p.environmentFiles.map((f) => f.path)).toEqual([`${DIR}/env.yaml`]);
    expect(previewFiles(p).find((f) => f.path === `${DIR}/services/web/extra.txt`)?.kind).toBe("REMOVED");
    expect(p.impact.services).toBe(2);
    expect(p.impact.bindings).toBe(1);
    expect(p.impact.variables).toBe(1);
    // The whole tenant-environment is the target's again.
    expect(t.git(P, "rev-parse", `${sha}:${DIR}`).trim()).toBe(t.git(P, "rev-parse", `${target}:${DIR}`).trim());
    expect(rawCommitMessage(t, sha, P)).toContain("\nMode: full\nJustification:");
    expect(rawCommitMessage(t, sha, P)).not.toContain("Service:");
  });
});

describe("preview equals the commit after approval (the demo's acme/production incident)", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
  });

  const REVIEW = `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { id state commitSha commitMessage } }`;

  for (const mode of ["SERVICE", "FIELD"] as const) {
    it(`${mode}: PENDING until Bob approves, then the commit is exactly the preview`, async () => {
      const where = { project: P, tenant: "acme", environment: "production" };
      const history = await recentDeployments(t, jane, "acme", "production", 5, P);
      if (mode === "FIELD") {
        // The SERVICE case rolled the bad tag back already (and holds it): deploy it again, overriding the hold.
        await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v2.1.0" }, overrideHolds: true, holdOverrideJustification: "replaying the incident" });
      }
      const current = (await recentDeployments(t, jane, "acme", "production", 2, P))[0]!;
      expect(current.changes.some((c) => c.service === SVC && c.path === "image.tag" && c.after === "v2.1.0")).toBe(true);
      const targetSha = mode === "SERVICE" ? history[1]!.revision : (await recentDeployments(t, jane, "acme", "production", 2, P))[1]!.revision;
      const input: RollbackInputVars = {
        ...where,
        mode,
        targetSha,
        service: SVC,
        ...(mode === "FIELD" ? { fields: ["image.tag"] } : {}),
      };
      const p = await previewOk(t, jane, input);
      expect(p.approvalRequired).toBe(true);
      expect(p.requiredApprovals).toBe(1);
      const res = await requestRollback(t, jane, justified(input));
      expect(res.errors).toBeUndefined();
      const pending = res.data!.requestRollback;
      expect(pending.state).toBe("PENDING");
      expect(pending.commitSha).toBeNull();
      expect(head(t, P)).toBe(p.headSha);

      const approved = await t.ok<{ reviewRollbackRequest: { state: string; commitSha: string; commitMessage: string } }>(tokenOf(t, "bob"), REVIEW, { id: pending.id });
      expect(approved.reviewRollbackRequest.state).toBe("COMPLETED");
      const sha = approved.reviewRollbackRequest.commitSha;
      expectPreviewEqualsCommit(t, p, sha, P);
      const msg = rawCommitMessage(t, sha, P);
      expect(msg).toContain(`\nMode: ${mode.toLowerCase()}\nService: ${SVC}\n`);
      if (mode === "FIELD") expect(msg).toContain("\nFields: image.tag\n");
      expect(msg).toContain("\nApproval: Approved by bob@example.com (quorum: 1/1)\n");
      expect(msg).toContain(`\nRollback Request ID: ${pending.id}\n`);
    });
  }
});
