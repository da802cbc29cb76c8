import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ENVIRONMENTS, TENANTS } from "../../helpers/demo.js";
import { commitCount } from "../../helpers/git.js";
import { type DeploymentView, fullHistory, requestRollback } from "../../helpers/operations.js";
import { type ServerProcess, spawnNode } from "../../helpers/processes.js";
import { startTestServer, type TestServer } from "../../helpers/server.js";

type Snapshot = Record<string, DeploymentView[]>;

/** Every deployment of every demo tenant-environment, as the API shows it. */
async function snapshot(t: TestServer, token: string): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const tenant of TENANTS) for (const env of ENVIRONMENTS) out[`${tenant}/${env}`] = await fullHistory(t, token, tenant, env, { pageSize: 7 });
  return out;
}

/** Deletes the deployment index of a project: every row of deployment and deployment_count. */
async function deleteIndex(t: TestServer, project: string): Promise<void> {
  await t.app.db.transaction(async (tx) => {
    const [row] = (await tx.query(`SELECT "id" FROM "project" WHERE "slug" = ?`, [project])) as { id: string }[];
    await tx.query(`DELETE FROM "deployment" WHERE "projectId" = ?`, [row!.id]);
    await tx.query(`DELETE FROM "deployment_count" WHERE "tenantEnvironmentId" IN (SELECT "id" FROM "tenant_environment" WHERE "projectId" = ?)`, [row!.id]);
  });
}

/**
 * What reindexing an index that was deleted must give back: the same deployments, except the
 * statuses only agents know (SUCCESS, FAILED), which Git does not record and so come back PENDING.
 * ROLLED_BACK is derived from the rollback commits and must come back as it was.
 */
function afterDeletedIndex(before: Snapshot): Snapshot {
  const out: Snapshot = {};
  for (const [key, list] of Object.entries(before)) {
    out[key] = list.map((d) => ({ ...d, status: d.status === "ROLLED_BACK" ? "ROLLED_BACK" : "PENDING" }));
  }
  return out;
}

/**
 * `reindex` rebuilds the deployment index from Git trailers alone; after deleting
 * the index and reindexing, deploymentHistory returns the same deployments.
 */
describe("reindex rebuilds the history from Git", () => {
  let t: TestServer | undefined;
  let cli: ServerProcess | undefined;

  afterEach(async () => {
    cli?.kill();
    cli = undefined;
    await t?.stop();
    t = undefined;
  });
  afterAll(() => cli?.kill());

  /** A server whose demo history has rollbacks (ROLLBACK deployments, ROLLED_BACK statuses) and fresh deployments. */
  async function prepared(): Promise<{ t: TestServer; jane: string; before: Snapshot }> {
    const server = await startTestServer();
    t = server;
    const jane = server.tokens["jane@example.com"]!;
    const staging = await fullHistory(server, jane, "acme", "staging");
    const first = await requestRollback(server, jane, {
      project: "demo",
      tenant: "acme",
      environment: "staging",
      mode: "FULL",
      targetSha: staging[10]!.revision,
      justification: "reindex fixture: roll staging back",
    });
    expect(first.data?.requestRollback.state).toBe("COMPLETED");
    await server.ok(jane, `mutation($i:DeployInput!){ deploy(input:$i){ id } }`, {
      i: { project: "demo", tenant: "globex", environment: "dev", service: "web", set: { "image.tag": "v5.5.5" } },
    });
    const dev = await fullHistory(server, jane, "globex", "dev");
    const second = await requestRollback(server, jane, {
      project: "demo",
      tenant: "globex",
      environment: "dev",
      mode: "FULL",
      targetSha: dev[3]!.revision,
      justification: "reindex fixture: roll dev back",
    });
    expect(second.data?.requestRollback.state).toBe("COMPLETED");
    const before = await snapshot(server, jane);
    // The fixture has every kind of status and source the rebuild must handle.
    const all = Object.values(before).flat();
    for (const status of ["SUCCESS", "FAILED", "PENDING", "ROLLED_BACK"])
      expect(
        all.some((d) => d.status === status),
        status,
      ).toBe(true);
    for (const source of ["RELEASE", "PROMOTION", "ROLLBACK"])
      expect(
        all.some((d) => d.source === source),
        source,
      ).toBe(true);
    return { t: server, jane, before };
  }

  it("gives back the same deployments after the index is deleted and reindexed in-process", async () => {
    const { t, jane, before } = await prepared();
    await deleteIndex(t, "demo");
    expect((await fullHistory(t, jane, "acme", "staging")).length).toBe(0);

    const result = await t.app.reindexer.reindex("demo");
    const total = Object.values(before).reduce((n, l) => n + l.length, 0);
    expect(result).toMatchObject({ project: "demo", deployments: total, tenantEnvironments: 6, commits: commitCount(t) });

    expect(await snapshot(t, jane)).toEqual(afterDeletedIndex(before));
  });

  it("keeps totalCount and the filtered counts in step after a rebuild", async () => {
    const { t, jane, before } = await prepared();
    await deleteIndex(t, "demo");
    await t.app.reindexer.reindex("demo");
    for (const [key, list] of Object.entries(before)) {
      const [tenant, env] = key.split("/") as [string, string];
      const q = async (filter: string) =>
        (
          await t.ok<{ deploymentHistory: { totalCount: number } }>(
            jane,
            `query($t:String!,$e:String!){ deploymentHistory(project:"demo",tenant:$t,environment:$e,first:0${filter}){ totalCount } }`,
            { t: tenant, e: env },
          )
        ).deploymentHistory.totalCount;
      expect(await q(""), key).toBe(list.length);
      expect(await q(",status:ROLLED_BACK"), key).toBe(list.filter((d) => d.status === "ROLLED_BACK").length);
      expect(await q(",source:ROLLBACK"), key).toBe(list.filter((d) => d.source === "ROLLBACK").length);
      expect(await q(",source:PROMOTION"), key).toBe(list.filter((d) => d.source === "PROMOTION").length);
    }
  });

  it("keeps every status, agents' included, when reindexing over an index that still has them", async () => {
    const { t, jane, before } = await prepared();
    await t.app.reindexer.reindex("demo");
    expect(await snapshot(t, jane)).toEqual(before);
  });

  it("rebuilds the same history with the CLI (`reindex --project demo`) while the server runs", async () => {
    const { t, jane, before } = await prepared();
    await deleteIndex(t, "demo");
    cli = spawnNode("dist/src/cli/main.js", ["reindex", "--project", "demo"], { DATA_DIR: t.dataDir, LOG_LEVEL: "warn" });
    const code = await cli.exited;
    expect(code, `stdout: ${cli.stdout.join("\n")}\nstderr: ${cli.stderr.join("\n")}`).toBe(0);
    const total = Object.values(before).reduce((n, l) => n + l.length, 0);
    const line = cli.stdout.find((l) => l.startsWith("demo:"));
    expect(line).toBeDefined();
    expect(line).toMatch(new RegExp(`^demo: ${total} deployments from ${commitCount(t)} commits in 6 tenant-environments`));

    expect(await snapshot(t, jane)).toEqual(afterDeletedIndex(before));
  });

  it("finds the rollback requests of rebuilt ROLLBACK deployments again", async () => {
    const { t, jane, before } = await prepared();
    await deleteIndex(t, "demo");
    await t.app.reindexer.reindex("demo");
    const after = await fullHistory(t, jane, "acme", "staging");
    expect(after[0]!.source).toBe("ROLLBACK");
    expect(after[0]!.rollbackRequest).toEqual(before["acme/staging"]![0]!.rollbackRequest);
    expect(after[0]!.rollbackRequest?.state).toBe("COMPLETED");
  });
});
