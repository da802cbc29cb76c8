import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, PG_URL, postgresAvailable, uniqueSchema } from "../../helpers/postgres.js";
import { call, type Replica, startDemoReplicas } from "../../helpers/replica.js";

/**
 * Two replicas on one PostgreSQL pushing to one bare remote at once: a push the remote refuses
 * because the other replica got there first (the lease, or the ref locked while the other push
 * updates it) is a lost race, retried on the new head when the paths it writes did not change,
 * and CONFLICT when they did; never an execution failure, and no message names a path.
 */
const available = await postgresAvailable();

describe.skipIf(!available)("scale-out: concurrent pushes of two replicas to one remote", () => {
  const schema = uniqueSchema("pushrace");
  const root = mkdtempSync(path.join(tmpdir(), "rbs-pushrace-"));
  const remoteRoot = path.join(root, "remotes");
  let a: Replica, b: Replica;
  let jane: string;

  const envFor = (name: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: PG_URL,
    PG_SCHEMA: schema,
    REDIS_URL: "",
    GIT_REMOTE: `file://${remoteRoot}/{project}.git`,
    DATA_DIR: path.join(root, name),
    ...extra,
  });
  const remoteGit = (...args: string[]) => execFileSync("git", ["-C", path.join(remoteRoot, "demo.git"), ...args], { encoding: "utf8" });

  beforeAll(async () => {
    let tokens: Record<string, string>;
    ({ a, b, tokens } = await startDemoReplicas(envFor));
    jane = tokens["jane@example.com"]!;
  }, 240_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("20 concurrent FULL rollbacks over four tenant-environments on both replicas end COMPLETED or CONFLICT, with no path in any message", async () => {
    const before = Number(remoteGit("rev-list", "--count", "main").trim());
    const scopes = [
      ["acme", "dev"],
      ["acme", "staging"],
      ["globex", "dev"],
      ["globex", "staging"],
    ] as const;
    const targets = new Map<string, string[]>();
    for (const [tenant, environment] of scopes) {
      const res = await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
        a,
        jane,
        `query($t:String!,$e:String!){ deploymentHistory(project:"demo",tenant:$t,environment:$e,first:8){ nodes{ revision } } }`,
        { t: tenant, e: environment },
      );
      targets.set(
        `${tenant}/${environment}`,
        res.data!.deploymentHistory.nodes.slice(1, 6).map((n) => n.revision),
      );
    }
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const [tenant, environment] = scopes[i % scopes.length]!;
        return call<{ requestRollback: { id: string; state: string; commitSha: string } }>(
          i % 2 === 0 ? a : b,
          jane,
          `mutation($i:RollbackInput!){ requestRollback(input:$i){ id state commitSha } }`,
          { i: { project: "demo", tenant, environment, mode: "FULL", targetSha: targets.get(`${tenant}/${environment}`)![Math.floor(i / 4)], justification: `push race ${i}` } },
        );
      }),
    );
    const completed = results.filter((r) => r.data?.requestRollback?.state === "COMPLETED").map((r) => r.data!.requestRollback);
    const refused = results.filter((r) => r.errors);
    expect(completed.length + refused.length).toBe(20);
    expect(completed.length).toBeGreaterThanOrEqual(scopes.length);
    for (const r of refused) {
      const e = r.errors![0]!;
      expect({ code: e.extensions?.code, status: e.extensions?.status }, e.message).toEqual({ code: "CONFLICT", status: 409 });
      expect(e.message).not.toMatch(/file:|\/tmp|\/[\w.-]+\/[\w.-]+\//);
    }
    // Every refused request is FAILED with a CONFLICT reason that names no path either.
    for (const r of refused) {
      const id = (r.errors![0]!.extensions as { requestId?: string } | undefined)?.requestId;
      if (!id) continue;
      const state = await call<{ rollbackRequest: { state: string; error: string } }>(a, jane, `query($id:ID!){ rollbackRequest(id:$id){ state error } }`, { id });
      expect(state.data!.rollbackRequest.state).toBe("FAILED");
      expect(state.data!.rollbackRequest.error).not.toMatch(/file:|\/tmp|\/[\w.-]+\/[\w.-]+\//);
    }
    // Nothing lost, nothing doubled: the remote gained exactly the completed rollbacks, linearly.
    expect(remoteGit("rev-list", "--merges", "main").trim()).toBe("");
    expect(Number(remoteGit("rev-list", "--count", "main").trim())).toBe(before + completed.length);
    for (const c of completed) {
      expect(remoteGit("log", "main", "--format=%H", "--fixed-strings", `--grep=Rollback Request ID: ${c.id}`).split("\n").filter(Boolean)).toEqual([c.commitSha]);
    }
  }, 120_000);
});
