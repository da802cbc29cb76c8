import { beforeAll, describe, expect, it } from "vitest";
import { expectError, expectOnlyTouched } from "../../helpers/assertions.js";
import { tokenOf } from "../../helpers/demo.js";
import { createTenant, importFiles } from "../../helpers/fixtures.js";
import { blobIds, changedKinds, fileOrNull, head, rawCommitMessage } from "../../helpers/git.js";
import {
  deploy,
  justified,
  previewOk,
  previewRollback,
  recentDeployments,
  requestRollback,
  rollbackOk,
  rollbackRequestCount,
  TEST_JUSTIFICATION,
} from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { envYaml, plainService } from "../../helpers/yaml-fixtures.js";

/**
 * SERVICE mode on a real repository: the commit replaces `services/<svc>/**` and
 * `rendered/<svc>.yaml` with the target's, files added since the target go, files removed since
 * come back, and every other byte of the repository stays as it is at the head.
 */

const P = "demo";
const SVC = "api-gateway";

describe("SERVICE rollback", () => {
  const t = useTestServer();
  let jane: string;

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
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
    const targetTree = blobIds(t, target, svcDir, P);

    const d1 = (await deploy(t, jane, { ...stg, service: "auth", set: { replicas: 4 } })).revision; // another service
    const d2 = (await deploy(t, jane, { ...stg, service: SVC, fromEnvironment: "dev" })).revision; // the folder becomes dev's: notes.txt removed
    const d3 = await importFiles(
      t,
      P,
      tenant,
      "staging",
      { ...envYaml(tenant, "staging", "eu-central-1"), [`services/${SVC}/extra/config.json`]: '{"timeoutMs": 1500}\n' },
      "env.yaml and a new file in api-gateway",
    );
    const d4 = (await deploy(t, jane, { ...stg, service: SVC, set: { "image.tag": "v2.0.0", "variables:LOG_LEVEL": "debug", "bindings:kustomize.path": "x" } })).revision;
    expect(fileOrNull(t, d4, `${svcDir}/notes.txt`, P)).toBeNull();
    const before = head(t, P);
    const otherTenant = blobIds(t, before, "tenants/acme", P);

    const r = await rollbackOk(t, jane, { ...stg, mode: "SERVICE", targetSha: target, service: SVC });
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
    expectOnlyTouched(t, r.commitSha, touched, P);
    expect(changedKinds(t, r.commitSha, P)).toEqual({
      [`${DIR}/rendered/${SVC}.yaml`]: "MODIFIED",
      [`${svcDir}/bindings.yaml`]: "MODIFIED",
      [`${svcDir}/extra/config.json`]: "REMOVED",
      [`${svcDir}/notes.txt`]: "ADDED",
      [`${svcDir}/values.yaml`]: "MODIFIED",
      [`${svcDir}/variables.yaml`]: "MODIFIED",
    });

    // The service folder and its manifest are the target's bytes.
    expect(blobIds(t, r.commitSha, svcDir, P)).toEqual(targetTree);
    expect(fileOrNull(t, r.commitSha, `${DIR}/rendered/${SVC}.yaml`, P)).toBe(fileOrNull(t, target, `${DIR}/rendered/${SVC}.yaml`, P));

    // Everything else is the head's: the other service (with its newer deployment), env.yaml, dev, other tenants.
    expect(fileOrNull(t, r.commitSha, `${DIR}/services/auth/values.yaml`, P)).toContain("replicas: 4");
    expect(fileOrNull(t, r.commitSha, `${DIR}/env.yaml`, P)).toContain("REGION: eu-central-1");
    expect(blobIds(t, r.commitSha, `${DIR}/services/auth`, P)).toEqual(blobIds(t, before, `${DIR}/services/auth`, P));
    expect(fileOrNull(t, r.commitSha, `${DIR}/rendered/auth.yaml`, P)).toBe(fileOrNull(t, before, `${DIR}/rendered/auth.yaml`, P));
    expect(blobIds(t, r.commitSha, `tenants/${tenant}/dev`, P)).toEqual(blobIds(t, before, `tenants/${tenant}/dev`, P));
    expect(blobIds(t, r.commitSha, "tenants/acme", P)).toEqual(otherTenant);

    // The commit message in the spec's format.
    const msg = rawCommitMessage(t, r.commitSha, P);
    expect(msg).toBe(
      [
        `Rollback: tenant/${tenant} env/staging → revision ${target.slice(0, 7)}`,
        "",
        "Mode: service",
        `Service: ${SVC}`,
        `Justification: ${TEST_JUSTIFICATION}`,
        "Author: jane@example.com",
        "Approval: Not required",
        `Rollback Request ID: ${r.id}`,
        "",
      ].join("\n"),
    );
    expect(r.commitMessage.trim()).toBe(msg.trim());
    expect(msg).not.toContain("Fields:");

    // History: the deployments that only touched api-gateway are ROLLED_BACK; the others stay as they were.
    const history = await recentDeployments(t, jane, tenant, "staging", 100, P);
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
    const r = await rollbackOk(t, jane, { project: P, tenant, environment: "dev", mode: "SERVICE", targetSha: target, service: "newsvc" });
    const gone = [`${DIR}/rendered/newsvc.yaml`, ...["bindings.yaml", "values.yaml", "variables.yaml"].map((f) => `${DIR}/services/newsvc/${f}`)];
    expectOnlyTouched(t, r.commitSha, gone, P);
    for (const path of gone) expect(changedKinds(t, r.commitSha, P)[path]).toBe("REMOVED");
  });

  it("on the demo seed: reverting one service of acme/dev to its first import touches that service alone", async () => {
    const where = { project: P, tenant: "acme", environment: "dev" };
    const history = await recentDeployments(t, jane, "acme", "dev", 100, P);
    const target = history.at(-1)!.revision;
    // The first seeded service whose files changed since the import.
    let chosen: string | null = null;
    for (const svc of ["api-gateway", "auth", "billing", "web", "worker"]) {
      const p = await previewOk(t, jane, { ...where, mode: "SERVICE", targetSha: target, service: svc });
      if (p.services.length > 0) {
        chosen = svc;
        break;
      }
    }
    expect(chosen).not.toBeNull();
    const p = await previewOk(t, jane, { ...where, mode: "SERVICE", targetSha: target, service: chosen! });
    expect(p.services.map((s) => s.service)).toEqual([chosen]);
    expect(p.environmentChanges).toEqual([]);
    const expected = p.services[0]!.files.map((f) => f.path);
    for (const path of expected) expect(path.startsWith(`tenants/acme/dev/services/${chosen}/`) || path === `tenants/acme/dev/rendered/${chosen}.yaml`).toBe(true);
    const r = await rollbackOk(t, jane, { ...where, mode: "SERVICE", targetSha: target, service: chosen! });
    expectOnlyTouched(t, r.commitSha, expected, P);
    expect(blobIds(t, r.commitSha, `tenants/acme/dev/services/${chosen}`, P)).toEqual(blobIds(t, target, `tenants/acme/dev/services/${chosen}`, P));
  });
});

describe("SERVICE rollback errors", () => {
  const t = useTestServer();
  let jane: string;
  let target: string;
  const where = { project: P, tenant: "svcerr", environment: "dev" };

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    await createTenant(t, P, where.tenant, ["dev"]);
    target = await importFiles(t, P, where.tenant, "dev", { ...envYaml(where.tenant, "dev"), ...plainService(SVC), ...plainService("web") });
    await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v9.9.9" } });
  });

  it("unknown service: BAD_USER_INPUT naming it, for preview and request, and nothing is written", async () => {
    const headBefore = head(t, P);
    const countBefore = await rollbackRequestCount(t, jane, P);
    const input = { ...where, mode: "SERVICE" as const, targetSha: target, service: "no-such-svc" };
    expect(expectError(await previewRollback(t, jane, input), "BAD_USER_INPUT", 400).message).toContain("no-such-svc");
    expect(expectError(await requestRollback(t, jane, justified(input)), "BAD_USER_INPUT", 400).message).toContain("no-such-svc");
    expect(head(t, P)).toBe(headBefore);
    expect(await rollbackRequestCount(t, jane, P)).toBe(countBefore);
  });

  it("no service: BAD_USER_INPUT", async () => {
    const input = { ...where, mode: "SERVICE" as const, targetSha: target };
    expectError(await previewRollback(t, jane, input), "BAD_USER_INPUT", 400, /service/);
    expectError(await requestRollback(t, jane, justified(input)), "BAD_USER_INPUT", 400, /service/);
  });

  it("a service that already matches the target: the preview is empty and the request is refused without a commit", async () => {
    const input = { ...where, mode: "SERVICE" as const, targetSha: target, service: "web" };
    const p = await previewOk(t, jane, input);
    expect(p.services).toEqual([]);
    expect(p.impact).toEqual({ services: 0, bindings: 0, variables: 0, fields: 0, files: 0 });
    const headBefore = head(t, P);
    expectError(await requestRollback(t, jane, justified(input)), "BAD_USER_INPUT", 400);
    expect(head(t, P)).toBe(headBefore);
  });
});
