import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/harness.js";
import {
  TRICKY_BINDINGS,
  TRICKY_VALUES,
  TRICKY_VARIABLES,
  commitMessage,
  createTenant,
  deploy,
  envYaml,
  expectPreviewEqualsCommit,
  head,
  historyOf,
  importFiles,
  plainService,
  previewChanges,
  previewFiles,
  previewOk,
  request,
  requestCount,
  rollbackOk,
  show,
  token,
  type PreviewOut,
  type RollbackArgs,
} from "./helpers/issue3.js";

/**
 * Issue 3, previews that equal the execution: for each mode, previewRollback and then
 * requestRollback with the same input; the commit's diff must be the preview, file by file
 * (paths, kinds, and each patch turning the commit's parent into the commit), and the rollback
 * deployment's field changes must be the preview's.
 */

const P = "demo";
const TENANT = "previewtest";
const ENV = "dev";
const DIR = `tenants/${TENANT}/${ENV}`;
const SVC = "api-gateway";
const WHERE = { project: P, tenant: TENANT, environment: ENV };

describe("issue 3: previews equal the commit", () => {
  let t: TestServer;
  let target: string;

  /** Preview, check it wrote nothing, execute the same input, check the commit is the preview. */
  async function previewThenExecute(input: RollbackArgs): Promise<{ preview: PreviewOut; sha: string }> {
    const headBefore = head(t, P);
    const countBefore = await requestCount(t, P);
    const p = await previewOk(t, input);
    // A preview writes nothing and is deterministic.
    expect(head(t, P)).toBe(headBefore);
    expect(await requestCount(t, P)).toBe(countBefore);
    expect(await previewOk(t, input)).toEqual(p);
    expect(p.headSha).toBe(headBefore);
    expect(p.targetSha).toBe(target);
    expect(p.baseSha).toBe((await historyOf(t, P, TENANT, ENV, 1))[0]!.revision);

    const r = await rollbackOk(t, input);
    expectPreviewEqualsCommit(t, P, p, r.commitSha);
    expect(r.affectedServices).toEqual(p.affectedServices);
    expect(p.affectedServices).toEqual(p.services.map((s) => s.service));
    // The rollback deployment records the same field changes the preview showed.
    const [deployment] = await historyOf(t, P, TENANT, ENV, 1);
    expect(deployment!.revision).toBe(r.commitSha);
    expect(deployment!.source).toBe("ROLLBACK");
    expect(sortChanges(deployment!.changes)).toEqual(sortChanges(previewChanges(p)));
    return { preview: p, sha: r.commitSha };
  }

  function sortChanges<T extends { service: string | null; file: string; path: string }>(list: T[]): T[] {
    return [...list].sort((a, b) => `${a.service}/${a.file}/${a.path}`.localeCompare(`${b.service}/${b.file}/${b.path}`));
  }

  beforeAll(async () => {
    t = await startTestServer();
    await createTenant(t, P, TENANT, [ENV]);
    target = await importFiles(t, P, TENANT, ENV, {
      ...envYaml(TENANT, ENV),
      [`services/${SVC}/values.yaml`]: TRICKY_VALUES,
      [`services/${SVC}/bindings.yaml`]: TRICKY_BINDINGS,
      [`services/${SVC}/variables.yaml`]: TRICKY_VARIABLES,
      ...plainService("auth"),
      ...plainService("web"),
    });
    await deploy(t, WHERE, SVC, { set: { "image.tag": "v2.0.0", replicas: 5, "variables:LOG_LEVEL": "debug", "bindings:kustomize.path": "k/v2" } });
    await deploy(t, WHERE, "auth", { set: { replicas: 3, "variables:FEATURE_NEW_CHECKOUT": "true", "image.tag": "v1.2.0" } });
    const values = show(t, P, head(t, P), `${DIR}/services/${SVC}/values.yaml`)!
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

  afterAll(async () => {
    await t?.stop();
  });

  it("FIELD: only the selected fields appear, blast radius MINIMAL, and the commit is the preview", async () => {
    const input: RollbackArgs = { ...WHERE, mode: "FIELD", targetSha: target, service: SVC, fields: ["image.tag", "extra", "probes", "variables:LOG_LEVEL"] };
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
    expect(previewFiles(p).map((f) => f.path).sort()).toEqual([`${DIR}/rendered/${SVC}.yaml`, `${DIR}/services/${SVC}/values.yaml`, `${DIR}/services/${SVC}/variables.yaml`]);
    expect(commitMessage(t, P, sha)).toContain(`\nMode: field\nService: ${SVC}\nFields: image.tag, extra, probes, variables:LOG_LEVEL\n`);
  });

  it("SERVICE: only that service's files, blast radius MEDIUM, and the commit is the preview", async () => {
    const input: RollbackArgs = { ...WHERE, mode: "SERVICE", targetSha: target, service: "auth" };
    const { preview: p, sha } = await previewThenExecute(input);
    expect(p.blastRadius).toBe("MEDIUM");
    expect(p.services.map((s) => s.service)).toEqual(["auth"]);
    expect(p.environmentChanges).toEqual([]);
    expect(p.impact).toEqual({ services: 1, bindings: 0, variables: 1, fields: 3, files: 3 });
    expect(commitMessage(t, P, sha)).toContain("\nMode: service\nService: auth\nJustification:");
  });

  it("FULL: every service and env.yaml, blast radius HIGH, and the commit is the preview", async () => {
    const input: RollbackArgs = { ...WHERE, mode: "FULL", targetSha: target };
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
    expect(commitMessage(t, P, sha)).toContain("\nMode: full\nJustification:");
    expect(commitMessage(t, P, sha)).not.toContain("Service:");
  });
});

describe("issue 3: preview equals the commit after approval (the demo's acme/production incident)", () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  const REVIEW = `mutation($id: ID!) { reviewRollbackRequest(id: $id, decision: APPROVE) { id state commitSha commitMessage } }`;

  for (const mode of ["SERVICE", "FIELD"] as const) {
    it(`${mode}: PENDING until Bob approves, then the commit is exactly the preview`, async () => {
      const where = { project: P, tenant: "acme", environment: "production" };
      const history = await historyOf(t, P, "acme", "production", 5);
      if (mode === "FIELD") {
        // The SERVICE case rolled the bad tag back already (and holds it): deploy it again, overriding the hold.
        await t.ok(token(t, "jane@example.com"), `mutation($i: DeployInput!) { deploy(input: $i) { revision } }`, {
          i: { ...where, service: SVC, set: { "image.tag": "v2.1.0" }, overrideHolds: true, holdOverrideJustification: "replaying the incident" },
        });
      }
      const current = (await historyOf(t, P, "acme", "production", 2))[0]!;
      expect(current.changes.some((c) => c.service === SVC && c.path === "image.tag" && c.after === "v2.1.0")).toBe(true);
      const targetSha = mode === "SERVICE" ? history[1]!.revision : (await historyOf(t, P, "acme", "production", 2))[1]!.revision;
      const input: RollbackArgs = {
        ...where,
        mode,
        targetSha,
        service: SVC,
        ...(mode === "FIELD" ? { fields: ["image.tag"] } : {}),
      };
      const p = await previewOk(t, input);
      expect(p.approvalRequired).toBe(true);
      expect(p.requiredApprovals).toBe(1);
      const res = await request(t, input);
      expect(res.errors).toBeUndefined();
      const pending = res.data!.requestRollback;
      expect(pending.state).toBe("PENDING");
      expect(pending.commitSha).toBeNull();
      expect(head(t, P)).toBe(p.headSha);

      const approved = await t.ok<{ reviewRollbackRequest: { state: string; commitSha: string; commitMessage: string } }>(token(t, "bob@example.com"), REVIEW, { id: pending.id });
      expect(approved.reviewRollbackRequest.state).toBe("COMPLETED");
      const sha = approved.reviewRollbackRequest.commitSha;
      expectPreviewEqualsCommit(t, P, p, sha);
      const msg = commitMessage(t, P, sha);
      expect(msg).toContain(`\nMode: ${mode.toLowerCase()}\nService: ${SVC}\n`);
      if (mode === "FIELD") expect(msg).toContain("\nFields: image.tag\n");
      expect(msg).toContain("\nApproval: Approved by bob@example.com (quorum: 1/1)\n");
      expect(msg).toContain(`\nRollback Request ID: ${pending.id}\n`);
    });
  }
});
