import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./helpers/harness.js";
import {
  blobIds,
  changedKinds,
  commitMessage,
  createTenant,
  deploy,
  envYaml,
  expectError,
  expectOnlyTouched,
  head,
  historyOf,
  importFiles,
  plainService,
  preview,
  previewOk,
  request,
  requestCount,
  rollbackOk,
  show,
} from "./helpers/issue3.js";

/**
 * Issue 3, SERVICE mode on a real repository: the commit replaces `services/<svc>/**` and
 * `rendered/<svc>.yaml` with the target's, files added since the target go, files removed since
 * come back, and every other byte of the repository stays as it is at the head.
 */

const P = "demo";
const SVC = "api-gateway";

describe("issue 3: SERVICE rollback", () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("reverts every file of one service (values, bindings, variables, added and removed files) and nothing else", async () => {
    const tenant = "svctest";
    await createTenant(t, P, tenant, ["dev", "staging"]);
    const stg = { project: P, tenant, environment: "staging" };
    const DIR = `tenants/${tenant}/staging`;
    const svcDir = `${DIR}/services/${SVC}`;

    await importFiles(t, P, tenant, "dev", { ...envYaml(tenant, "dev"), ...plainService(SVC, "v1.1.0"), ...plainService("auth") });
    // The target: staging has a notes file in the service folder that dev does not have.
    const target = await importFiles(t, P, tenant, "staging", {
      ...envYaml(tenant, "staging"),
      ...plainService(SVC),
      [`services/${SVC}/notes.txt`]: "runbook: https://runbooks.example.com/api-gateway\n",
      ...plainService("auth"),
    });
    const targetTree = blobIds(t, P, target, svcDir);

    const d1 = await deploy(t, stg, "auth", { set: { replicas: 4 } }); // another service
    const d2 = await deploy(t, stg, SVC, { fromEnvironment: "dev" }); // the folder becomes dev's: notes.txt removed
    const d3 = await importFiles(
      t,
      P,
      tenant,
      "staging",
      { ...envYaml(tenant, "staging", "eu-central-1"), [`services/${SVC}/extra/config.json`]: '{"timeoutMs": 1500}\n' },
      "env.yaml and a new file in api-gateway",
    );
    const d4 = await deploy(t, stg, SVC, { set: { "image.tag": "v2.0.0", "variables:LOG_LEVEL": "debug", "bindings:kustomize.path": "x" } });
    expect(show(t, P, d4, `${svcDir}/notes.txt`)).toBeNull();
    const before = head(t, P);
    const otherTenant = blobIds(t, P, before, "tenants/acme");

    const r = await rollbackOk(t, { ...stg, mode: "SERVICE", targetSha: target, service: SVC });
    expect(r.mode).toBe("SERVICE");
    expect(r.service).toBe(SVC);
    expect(r.affectedServices).toEqual([SVC]);
    expect(head(t, P)).toBe(r.commitSha);
    expect(t.git(P, "rev-parse", `${r.commitSha}~1`).trim()).toBe(before);

    // Exactly the service's files and its manifest.
    const touched = [
      `${DIR}/rendered/${SVC}.yaml`,
      `${svcDir}/bindings.yaml`,
      `${svcDir}/extra/config.json`,
      `${svcDir}/notes.txt`,
      `${svcDir}/values.yaml`,
      `${svcDir}/variables.yaml`,
    ];
    expectOnlyTouched(t, P, r.commitSha, touched);
    expect(changedKinds(t, P, r.commitSha)).toEqual({
      [`${DIR}/rendered/${SVC}.yaml`]: "MODIFIED",
      [`${svcDir}/bindings.yaml`]: "MODIFIED",
      [`${svcDir}/extra/config.json`]: "REMOVED",
      [`${svcDir}/notes.txt`]: "ADDED",
      [`${svcDir}/values.yaml`]: "MODIFIED",
      [`${svcDir}/variables.yaml`]: "MODIFIED",
    });

    // The service folder and its manifest are the target's bytes.
    expect(blobIds(t, P, r.commitSha, svcDir)).toEqual(targetTree);
    expect(show(t, P, r.commitSha, `${DIR}/rendered/${SVC}.yaml`)).toBe(show(t, P, target, `${DIR}/rendered/${SVC}.yaml`));

    // Everything else is the head's: the other service (with its newer deployment), env.yaml, dev, other tenants.
    expect(show(t, P, r.commitSha, `${DIR}/services/auth/values.yaml`)).toContain("replicas: 4");
    expect(show(t, P, r.commitSha, `${DIR}/env.yaml`)).toContain("REGION: eu-central-1");
    expect(blobIds(t, P, r.commitSha, `${DIR}/services/auth`)).toEqual(blobIds(t, P, before, `${DIR}/services/auth`));
    expect(show(t, P, r.commitSha, `${DIR}/rendered/auth.yaml`)).toBe(show(t, P, before, `${DIR}/rendered/auth.yaml`));
    expect(blobIds(t, P, r.commitSha, `tenants/${tenant}/dev`)).toEqual(blobIds(t, P, before, `tenants/${tenant}/dev`));
    expect(blobIds(t, P, r.commitSha, "tenants/acme")).toEqual(otherTenant);

    // The commit message in the spec's format.
    const msg = commitMessage(t, P, r.commitSha);
    expect(msg).toBe(
      [
        `Rollback: tenant/${tenant} env/staging → revision ${target.slice(0, 7)}`,
        "",
        "Mode: service",
        `Service: ${SVC}`,
        "Justification: issue 3 golden test",
        "Author: jane@example.com",
        "Approval: Not required",
        `Rollback Request ID: ${r.id}`,
        "",
      ].join("\n"),
    );
    expect(r.commitMessage.trim()).toBe(msg.trim());
    expect(msg).not.toContain("Fields:");

    // History: the deployments that only touched api-gateway are ROLLED_BACK; the others stay as they were.
    const history = await historyOf(t, P, tenant, "staging");
    const status = (rev: string) => history.find((d) => d.revision === rev)?.status;
    expect(history[0]).toMatchObject({ revision: r.commitSha, source: "ROLLBACK", rollbackRequest: { id: r.id } });
    expect(status(d2)).toBe("ROLLED_BACK");
    expect(status(d4)).toBe("ROLLED_BACK");
    expect(status(d1)).toBe("PENDING"); // auth only
    expect(status(d3)).toBe("PENDING"); // touched env.yaml as well
    expect(status(target)).toBe("PENDING");
  });

  it("a service added since the target is removed entirely (its folder and its manifest)", async () => {
    const tenant = "svcadded";
    await createTenant(t, P, tenant, ["dev"]);
    const DIR = `tenants/${tenant}/dev`;
    const target = await importFiles(t, P, tenant, "dev", { ...envYaml(tenant, "dev"), ...plainService(SVC) });
    await importFiles(t, P, tenant, "dev", { ...plainService("newsvc") }, "Add newsvc");
    const r = await rollbackOk(t, { project: P, tenant, environment: "dev", mode: "SERVICE", targetSha: target, service: "newsvc" });
    const gone = [`${DIR}/rendered/newsvc.yaml`, ...["bindings.yaml", "values.yaml", "variables.yaml"].map((f) => `${DIR}/services/newsvc/${f}`)];
    expectOnlyTouched(t, P, r.commitSha, gone);
    for (const path of gone) expect(changedKinds(t, P, r.commitSha)[path]).toBe("REMOVED");
  });

  it("on the demo seed: reverting one service of acme/dev to its first import touches that service alone", async () => {
    const where = { project: P, tenant: "acme", environment: "dev" };
    const history = await historyOf(t, P, "acme", "dev", 100);
    const target = history.at(-1)!.revision;
    // The first seeded service whose files changed since the import.
    let chosen: string | null = null;
    for (const svc of ["api-gateway", "auth", "billing", "web", "worker"]) {
      const p = await previewOk(t, { ...where, mode: "SERVICE", targetSha: target, service: svc });
      if (p.services.length > 0) {
        chosen = svc;
        break;
      }
    }
    expect(chosen).not.toBeNull();
    const p = await previewOk(t, { ...where, mode: "SERVICE", targetSha: target, service: chosen! });
    expect(p.services.map((s) => s.service)).toEqual([chosen]);
    expect(p.environmentChanges).toEqual([]);
    const expected = p.services[0]!.files.map((f) => f.path);
    for (const path of expected) expect(path.startsWith(`tenants/acme/dev/services/${chosen}/`) || path === `tenants/acme/dev/rendered/${chosen}.yaml`).toBe(true);
    const r = await rollbackOk(t, { ...where, mode: "SERVICE", targetSha: target, service: chosen! });
    expectOnlyTouched(t, P, r.commitSha, expected);
    expect(blobIds(t, P, r.commitSha, `tenants/acme/dev/services/${chosen}`)).toEqual(blobIds(t, P, target, `tenants/acme/dev/services/${chosen}`));
  });
});

describe("issue 3: SERVICE rollback errors", () => {
  let t: TestServer;
  let target: string;
  const where = { project: P, tenant: "svcerr", environment: "dev" };

  beforeAll(async () => {
    t = await startTestServer();
    await createTenant(t, P, where.tenant, ["dev"]);
    target = await importFiles(t, P, where.tenant, "dev", { ...envYaml(where.tenant, "dev"), ...plainService(SVC), ...plainService("web") });
    await deploy(t, where, SVC, { set: { "image.tag": "v9.9.9" } });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("unknown service: BAD_USER_INPUT naming it, for preview and request, and nothing is written", async () => {
    const headBefore = head(t, P);
    const countBefore = await requestCount(t, P);
    const input = { ...where, mode: "SERVICE" as const, targetSha: target, service: "no-such-svc" };
    expect(expectError(await preview(t, input), "BAD_USER_INPUT", 400)).toContain("no-such-svc");
    expect(expectError(await request(t, input), "BAD_USER_INPUT", 400)).toContain("no-such-svc");
    expect(head(t, P)).toBe(headBefore);
    expect(await requestCount(t, P)).toBe(countBefore);
  });

  it("no service: BAD_USER_INPUT", async () => {
    const input = { ...where, mode: "SERVICE" as const, targetSha: target };
    expectError(await preview(t, input), "BAD_USER_INPUT", 400, /service/);
    expectError(await request(t, input), "BAD_USER_INPUT", 400, /service/);
  });

  it("a service that already matches the target: the preview is empty and the request is refused without a commit", async () => {
    const input = { ...where, mode: "SERVICE" as const, targetSha: target, service: "web" };
    const p = await previewOk(t, input);
    expect(p.services).toEqual([]);
    expect(p.impact).toEqual({ services: 0, bindings: 0, variables: 0, fields: 0, files: 0 });
    const headBefore = head(t, P);
    expectError(await request(t, input), "BAD_USER_INPUT", 400);
    expect(head(t, P)).toBe(headBefore);
  });
});
