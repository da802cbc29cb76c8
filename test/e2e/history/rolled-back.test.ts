import { beforeAll, describe, expect, it } from "vitest";
import { Deployment } from "../../../entities/deployment.js";
import { DeploymentStatus } from "../../../entities/enums.js";
import { Project } from "../../../entities/project.js";
import { tokenOf } from "../../helpers/demo.js";
import { createTenant, importFiles } from "../../helpers/fixtures.js";
import { deploy, type DeploymentView, recentDeployments, rollbackOk } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { envYaml, plainService } from "../../helpers/yaml-fixtures.js";

/**
 * History after selective rollbacks: one marks ROLLED_BACK only the deployments whose changes it
 * fully undid (src/history/rolled-back.ts): SERVICE, those that touched nothing but that service's
 * files; FIELD, those whose every field change is one of (or inside) the selected fields. A
 * deployment that also touched another service, file or field stays as it was. And `reindex`
 * rebuilds SERVICE and FIELD rollback deployments, their links and these statuses from Git alone.
 */

const P = "demo";
const SVC = "api-gateway";

describe("history marking of selective rollbacks, and reindex", () => {
  const t = useTestServer();
  let jane: string;
  const tenant = "histtest";
  const where = { project: P, tenant, environment: "dev" };
  const rev: Record<string, string> = {};
  const rollbacks: Record<string, { id: string; sha: string }> = {};

  async function statuses(): Promise<Record<string, string>> {
    const history = await recentDeployments(t, jane, tenant, "dev", 100, P);
    const byRev = new Map(history.map((d) => [d.revision, d.status]));
    return Object.fromEntries(Object.entries(rev).map(([name, sha]) => [name, byRev.get(sha)!]));
  }

  beforeAll(async () => {
    jane = tokenOf(t, "jane");
    await createTenant(t, P, tenant, ["dev"]);
    rev.target = await importFiles(t, P, tenant, "dev", { ...envYaml(tenant, "dev"), ...plainService(SVC), ...plainService("auth") });
    rev.tagOnly = (await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v1.1.0" } })).revision;
    rev.tagAndReplicas = (await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v1.2.0", replicas: 2 } })).revision;
    rev.otherService = (await deploy(t, jane, { ...where, service: "auth", set: { replicas: 3 } })).revision;
    rev.logLevel = (await deploy(t, jane, { ...where, service: SVC, set: { "variables:LOG_LEVEL": "debug" } })).revision;
    rev.imageSubtree = (await deploy(t, jane, { ...where, service: SVC, set: { "image.tag": "v1.3.0", "image.repository": "registry.example.com/acme/gw" } })).revision;
    rev.envAndService = await importFiles(
      t,
      P,
      tenant,
      "dev",
      { ...envYaml(tenant, "dev", "us-east-1"), [`services/${SVC}/notes.txt`]: "added with env.yaml\n" },
      "env.yaml and an api-gateway file",
    );
  });

  it("FIELD image.tag marks only the deployment that changed nothing but image.tag", async () => {
    const r = await rollbackOk(t, jane, { ...where, mode: "FIELD", targetSha: rev.target!, service: SVC, fields: ["image.tag"] });
    rollbacks.fieldTag = { id: r.id, sha: r.commitSha };
    expect(await statuses()).toEqual({
      target: "PENDING",
      tagOnly: "ROLLED_BACK",
      tagAndReplicas: "PENDING", // also changed replicas, which the rollback kept
      otherService: "PENDING",
      logLevel: "PENDING",
      imageSubtree: "PENDING", // also changed image.repository
      envAndService: "PENDING",
    });
  });

  it("FIELD variables:LOG_LEVEL marks the deployment of that variable", async () => {
    const r = await rollbackOk(t, jane, { ...where, mode: "FIELD", targetSha: rev.target!, service: SVC, fields: ["variables:LOG_LEVEL"] });
    rollbacks.fieldLog = { id: r.id, sha: r.commitSha };
    const s = await statuses();
    expect(s.logLevel).toBe("ROLLED_BACK");
    expect(s.tagAndReplicas).toBe("PENDING");
    expect(s.imageSubtree).toBe("PENDING");
  });

  it("FIELD on a subtree (image) marks a deployment whose changes all sit inside it", async () => {
    const r = await rollbackOk(t, jane, { ...where, mode: "FIELD", targetSha: rev.target!, service: SVC, fields: ["image"] });
    rollbacks.fieldImage = { id: r.id, sha: r.commitSha };
    const s = await statuses();
    expect(s.imageSubtree).toBe("ROLLED_BACK");
    expect(s.tagAndReplicas).toBe("PENDING"); // replicas is outside `image`
    expect(s.otherService).toBe("PENDING");
  });

  it("SERVICE marks the deployments that touched only that service; another service's and a mixed one stay", async () => {
    const r = await rollbackOk(t, jane, { ...where, mode: "SERVICE", targetSha: rev.target!, service: SVC });
    rollbacks.service = { id: r.id, sha: r.commitSha };
    const s = await statuses();
    expect(s).toMatchObject({
      target: "PENDING",
      tagOnly: "ROLLED_BACK",
      tagAndReplicas: "ROLLED_BACK",
      logLevel: "ROLLED_BACK",
      imageSubtree: "ROLLED_BACK",
      otherService: "PENDING", // auth
      envAndService: "PENDING", // touched env.yaml as well
    });
  });

  it("reindex rebuilds the SERVICE and FIELD rollback deployments, their requests and every status from Git", async () => {
    const snapshot = (list: DeploymentView[]) =>
      list.map((d) => ({ revision: d.revision, source: d.source, status: d.status, summary: d.summary, rollbackRequest: d.rollbackRequest?.id ?? null, changes: d.changes }));
    const before = snapshot(await recentDeployments(t, jane, tenant, "dev", 100, P));
    const rollbackRows = before.filter((d) => d.source === "ROLLBACK");
    expect(rollbackRows.map((d) => d.rollbackRequest).sort()).toEqual(
      Object.values(rollbacks)
        .map((r) => r.id)
        .sort(),
    );
    expect(rollbackRows.map((d) => d.revision).sort()).toEqual(
      Object.values(rollbacks)
        .map((r) => r.sha)
        .sort(),
    );

    await t.app.reindexer.reindex(P);

    const after = snapshot(await recentDeployments(t, jane, tenant, "dev", 100, P));
    expect(after).toEqual(before);
    expect(await statuses()).toMatchObject({ tagOnly: "ROLLED_BACK", otherService: "PENDING", envAndService: "PENDING" });
    const q = `query($id: ID!) { rollbackRequest(id: $id) { id mode service selectedFields state commitSha } }`;
    const field = await t.ok<{ rollbackRequest: { mode: string; selectedFields: string[]; commitSha: string } }>(t.tokens["jane@example.com"]!, q, { id: rollbacks.fieldTag!.id });
    expect(field.rollbackRequest).toMatchObject({ mode: "FIELD", selectedFields: ["image.tag"], commitSha: rollbacks.fieldTag!.sha });
  });

  it("reindex from an index that lost the statuses derives the same ROLLED_BACK marks", async () => {
    const before = await statuses();
    // Forget what the index knew: every deployment of this tenant-environment back to PENDING.
    const project = await t.app.db.manager.findOneByOrFail(Project, { slug: P });
    const te = await t.app.catalog.tenantEnvironment(project, tenant, "dev");
    await t.app.db.manager.update(Deployment, { tenantEnvironmentId: te.id }, { status: DeploymentStatus.PENDING });
    expect(Object.values(await statuses()).every((s) => s === "PENDING")).toBe(true);
    await t.app.reindexer.reindex(P);
    expect(await statuses()).toEqual(before);
  });
});
