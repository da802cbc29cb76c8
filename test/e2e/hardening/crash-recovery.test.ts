import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DEMO_SERVICES, DEMO_TENANTS } from "../../../src/seed/demo.js";
import { eventually } from "../../helpers/assertions.js";
import { CLI_MAIN, childEnv, run } from "../../helpers/processes.js";
import { call, type Replica, startReplica } from "../../helpers/replica.js";
import { dropSchema, PG_URL, postgresAvailable, uniqueSchema } from "../../helpers/postgres.js";
import { copyOfTemplate, freshDataDir } from "../../helpers/server.js";

/**
 * Crash recovery under load: a server process killed with SIGKILL in the middle of a burst of
 * approvals or of rollbacks, several times, and restarted on the same data directory. Afterwards
 * no request is left APPROVED or EXECUTING, Git and the database agree on every request and every
 * tenant-environment, and the audit chain is intact.
 */

interface RequestRow {
  id: string;
  state: string;
  commitSha: string | null;
  tenant: string;
  environment: string;
}

const pgAvailable = await postgresAvailable();

/** Where the server keeps its data: SQLite in the data directory (a copy of the seeded template), or a PostgreSQL schema of its own. */
interface Storage {
  name: string;
  /** Kills per burst. */
  kills: number;
  /** Whether the burst of plain rollbacks runs here too (the load test runs on SQLite, where it is quick). */
  load: boolean;
  /** A data directory ready for the first start, and the demo tokens. */
  prepare(): { dataDir: string; env: Record<string, string> };
  cleanup(): Promise<void>;
}

const SQLITE: Storage = {
  name: "SQLite",
  kills: 3,
  load: true,
  prepare: () => ({ dataDir: copyOfTemplate("rbs-crash-"), env: { SEED: "none" } }),
  cleanup: async () => undefined,
};

function postgres(): Storage {
  const schemas: string[] = [];
  return {
    name: "PostgreSQL",
    kills: 2,
    load: false,
    prepare: () => {
      const schema = uniqueSchema("crash");
      schemas.push(schema);
      return { dataDir: freshDataDir("rbs-crash-pg-"), env: { DATABASE_URL: PG_URL, PG_SCHEMA: schema, SEED: "demo" } };
    },
    cleanup: async () => {
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    },
  };
}

describe.each([SQLITE, ...(pgAvailable ? [postgres()] : [])])("crash recovery on $name: SIGKILL in the middle of a burst", (storage) => {
  let server: Replica | undefined;
  let dataDir: string | undefined;
  let storageEnv: Record<string, string> = {};

  afterEach(async () => {
    server?.process.kill("SIGKILL");
    if (server) await server.exited;
    server = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });
  afterAll(() => storage.cleanup());

  /** Starts the server on the storage; the first start of a PostgreSQL schema seeds the demo. */
  const start = async (dir: string): Promise<Replica> =>
    startReplica("crash", childEnv({ DATA_DIR: dir, RECONCILE_INTERVAL_SECONDS: "1", ...storageEnv }) as Record<string, string>);

  const fresh = async (): Promise<{ dir: string; tokens: Record<string, string> }> => {
    const prepared = storage.prepare();
    dataDir = prepared.dataDir;
    storageEnv = prepared.env;
    server = await start(dataDir);
    storageEnv = { ...storageEnv, SEED: "none" };
    return { dir: dataDir, tokens: JSON.parse(readFileSync(path.join(dataDir, "demo-tokens.json"), "utf8")) as Record<string, string> };
  };

  const kill = async (s: Replica): Promise<void> => {
    s.process.kill("SIGKILL");
    await s.exited;
  };

  const gql = async <T>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await call<T>(server!, token, query, variables);
    if (res.errors?.length) throw new Error(JSON.stringify(res.errors));
    return res.data!;
  };

  const currentRevision = async (token: string, tenant: string, environment: string): Promise<string> =>
    (
      await gql<{ tenantEnvironment: { currentRevision: string } }>(
        token,
        `query($t:String!,$e:String!){ tenantEnvironment(project:"demo",tenant:$t,environment:$e){ currentRevision } }`,
        { t: tenant, e: environment },
      )
    ).tenantEnvironment.currentRevision;

  const allRequests = async (token: string): Promise<RequestRow[]> => {
    const rows: RequestRow[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { rollbackRequests: { nodes: RequestRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
        token,
        `query($a:String){ rollbackRequests(project:"demo", first:100, after:$a){ nodes{ id state commitSha tenant environment } pageInfo{ hasNextPage endCursor } } }`,
        { a: after },
      );
      rows.push(...page.rollbackRequests.nodes);
      if (!page.rollbackRequests.pageInfo.hasNextPage) return rows;
      after = page.rollbackRequests.pageInfo.endCursor;
    }
  };

  const repoGit = (dir: string, ...args: string[]) => execFileSync("git", ["-C", path.join(dir, "repos", "demo.git"), ...args], { encoding: "utf8" });
  const commitsCarrying = (dir: string, id: string) =>
    repoGit(dir, "log", "--format=%H", "--fixed-strings", `--grep=Rollback Request ID: ${id}`, "main").split("\n").filter(Boolean);

  /** Fires `burst` and kills the server as soon as the first of its calls has answered, while the rest are in flight. */
  const killMidBurst = async (burst: (() => Promise<unknown>)[]): Promise<void> => {
    const s = server!;
    let first!: () => void;
    const answered = new Promise<void>((resolve) => (first = resolve));
    const calls = burst.map((f) =>
      f()
        .catch(() => undefined)
        .finally(() => first()),
    );
    await answered;
    await kill(s);
    await Promise.all(calls);
  };

  /** Waits until recovery settled everything, then checks that Git, the database and the audit chain agree. */
  const expectSettledAndConsistent = async (dir: string, token: string): Promise<RequestRow[]> => {
    const settled = await eventually(async () => {
      const rows = await allRequests(token);
      return rows.some((r) => r.state === "APPROVED" || r.state === "EXECUTING") ? undefined : rows;
    }, "no request APPROVED or EXECUTING");
    for (const r of settled) {
      const inGit = commitsCarrying(dir, r.id);
      if (r.state === "COMPLETED") expect(inGit, `${r.id} COMPLETED`).toEqual([r.commitSha]);
      else expect(inGit, `${r.id} ${r.state}`).toEqual([]);
    }
    // Each tenant-environment's recorded revision is the last commit that touched its directory.
    for (const tenant of DEMO_TENANTS) {
      for (const environment of ["dev", "staging", "production"]) {
        const last = repoGit(dir, "log", "-1", "--format=%H", "main", "--", `tenants/${tenant}/${environment}`).trim();
        expect(await currentRevision(token, tenant, environment), `${tenant}/${environment}`).toBe(last);
      }
    }
    await kill(server!);
    server = undefined;
    const verify = await run(process.execPath, [CLI_MAIN, "audit", "verify", "--project", "demo"], { env: childEnv({ DATA_DIR: dir, LOG_LEVEL: "error", ...storageEnv }) });
    expect(verify.stderr).toBe("");
    expect(verify.stdout).toMatch(/^audit chain of demo: intact \(\d+ events\)\n$/);
    expect(verify.code).toBe(0);
    return settled;
  };

  it(`a burst of approvals, killed ${storage.kills} times: every approved request executes once or fails retryably`, async () => {
    const { dir, tokens } = await fresh();
    const jane = tokens["jane@example.com"]!;
    const bob = tokens["bob@example.com"]!;

    for (let round = 0; round < storage.kills; round++) {
      // A bad release of every service of both tenants in production, then one SERVICE rollback
      // request per service (production needs one approval): each touches its own service only.
      const targets = new Map<string, string>();
      for (const tenant of DEMO_TENANTS) targets.set(tenant, await currentRevision(jane, tenant, "production"));
      for (const tenant of DEMO_TENANTS) {
        for (const service of DEMO_SERVICES) {
          await gql(jane, `mutation($i:DeployInput!){ deploy(input:$i){ revision } }`, {
            i: { project: "demo", tenant, environment: "production", service, source: "RELEASE", set: { "image.tag": `v-crash-${round}-${service}` } },
          });
        }
      }
      const pending: string[] = [];
      for (const tenant of DEMO_TENANTS) {
        for (const service of DEMO_SERVICES) {
          const data = await gql<{ requestRollback: { id: string; state: string } }>(jane, `mutation($i:RollbackInput!){ requestRollback(input:$i){ id state } }`, {
            i: { project: "demo", tenant, environment: "production", mode: "SERVICE", service, targetSha: targets.get(tenant), justification: `crash round ${round}` },
          });
          expect(data.requestRollback.state).toBe("PENDING");
          pending.push(data.requestRollback.id);
        }
      }
      await killMidBurst(pending.map((id) => () => call(server!, bob, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ id state } }`, { id })));
      server = await start(dir);
    }

    const settled = await expectSettledAndConsistent(dir, jane);
    expect(settled).toHaveLength(storage.kills * DEMO_TENANTS.length * DEMO_SERVICES.length);
    for (const r of settled) expect(["COMPLETED", "FAILED", "PENDING"]).toContain(r.state);
    expect(settled.filter((r) => r.state === "COMPLETED").length).toBeGreaterThan(0);
  }, 180_000);

  it.runIf(storage.load)(
    `a burst of rollbacks, killed ${storage.kills} times: Git, the database and the audit chain agree`,
    async () => {
      const { dir, tokens } = await fresh();
      const jane = tokens["jane@example.com"]!;
      const environments = ["dev", "staging"];

      for (let round = 0; round < storage.kills; round++) {
        // FULL rollbacks (no approval needed) of four tenant-environments to several earlier revisions at once.
        const burst: (() => Promise<unknown>)[] = [];
        for (const tenant of DEMO_TENANTS) {
          for (const environment of environments) {
            const history = await gql<{ deploymentHistory: { nodes: { revision: string }[] } }>(
              jane,
              `query($t:String!,$e:String!){ deploymentHistory(project:"demo",tenant:$t,environment:$e,first:8){ nodes{ revision } } }`,
              { t: tenant, e: environment },
            );
            for (const { revision } of history.deploymentHistory.nodes.slice(1, 6)) {
              burst.push(() =>
                call(server!, jane, `mutation($i:RollbackInput!){ requestRollback(input:$i){ id state } }`, {
                  i: { project: "demo", tenant, environment, mode: "FULL", targetSha: revision, justification: `load round ${round}` },
                }),
              );
            }
          }
        }
        await killMidBurst(burst);
        server = await start(dir);
      }

      const settled = await expectSettledAndConsistent(dir, jane);
      for (const r of settled) expect(["COMPLETED", "FAILED"]).toContain(r.state);
      expect(settled.filter((r) => r.state === "COMPLETED").length).toBeGreaterThan(0);
    },
    90_000,
  );
});
