import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, PG_URL, postgresAvailable, REDIS_URL, uniqueSchema } from "../../helpers/postgres.js";
import { call, type Replica, startReplica, startDemoReplicas } from "../../helpers/replica.js";

/**
 * Scale-out mode: replicas sharing PostgreSQL, Redis and a bare Git remote, each with its own
 * local clone. Uses the PostgreSQL and Redis this machine runs; each run gets its own schema.
 */
const available = await postgresAvailable();

describe.skipIf(!available)("scale-out: replicas on PostgreSQL, Redis and a hosted Git remote", () => {
  const schema = uniqueSchema("scale");
  const root = mkdtempSync(path.join(tmpdir(), "rbs-scale-"));
  const remoteRoot = path.join(root, "remotes");
  const replicas: Replica[] = [];
  let a: Replica;
  let b: Replica;
  let tokens: Record<string, string>;

  const envFor = (name: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: PG_URL,
    PG_SCHEMA: schema,
    REDIS_URL,
    GIT_REMOTE: `file://${remoteRoot}/{project}.git`,
    DATA_DIR: path.join(root, name),
    RECONCILE_INTERVAL_SECONDS: "2",
    ...extra,
  });
  const remoteGit = (...args: string[]) => execFileSync("git", ["-C", path.join(remoteRoot, "demo.git"), ...args], { encoding: "utf8" });
  const commitsCarrying = (requestId: string) => remoteGit("log", "main", "--format=%H", `--grep=Rollback Request ID: ${requestId}$`).split("\n").filter(Boolean);
  const revisions = async (replica: Replica, tenant: string, env: string) =>
    (
      await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
        replica,
        tokens["jane@example.com"]!,
        `query($t:String!,$e:String!){ deploymentHistory(project:"demo",tenant:$t,environment:$e,first:30){ nodes{ revision } } }`,
        { t: tenant, e: env },
      )
    ).data!.deploymentHistory.nodes.map((n) => n.revision);
  const requestState = async (replica: Replica, id: string) =>
    (
      await call<{ rollbackRequest: { state: string; commitSha: string | null; error: string | null } }>(
        replica,
        tokens["jane@example.com"]!,
        `query($id:ID!){ rollbackRequest(id:$id){ state commitSha error } }`,
        { id },
      )
    ).data!.rollbackRequest;

  beforeAll(async () => {
    ({ a, b, tokens } = await startDemoReplicas(envFor));
    replicas.push(a, b);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await dropSchema(schema);
    rmSync(root, { recursive: true, force: true });
  });

  it("both replicas are ready: database, Redis and the Git remote answer", async () => {
    for (const r of [a, b]) {
      const res = await fetch(`${r.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ready", checks: { database: "ok", git: "ok", redis: "ok", "git-remote": "ok" } });
    }
  });

  it("a subscription on replica A sees every state change of a request created on B and approved on A", async () => {
    const client = createClient({
      url: a.graphqlUrl.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tokens["victor@example.com"]}` },
      retryAttempts: 0,
    });
    const states: string[] = [];
    let onFour!: () => void;
    const four = new Promise<void>((resolve) => (onFour = resolve));
    const subscribed = new Promise<void>((resolve) => client.on("connected", () => setTimeout(resolve, 300)));
    const dispose = client.subscribe<{ rollbackRequestUpdated: { state: string } }>(
      { query: `subscription { rollbackRequestUpdated(project:"demo", tenant:"globex", environment:"production") { id state } }` },
      {
        next: (v) => {
          if (v.data) states.push(v.data.rollbackRequestUpdated.state);
          if (states.length >= 4) onFour();
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await subscribed;
    const [, target] = await revisions(b, "globex", "production");
    const created = await call<{ requestRollback: { id: string; state: string } }>(
      b,
      tokens["jane@example.com"]!,
      `mutation($t:String!){ requestRollback(input:{project:"demo",tenant:"globex",environment:"production",mode:FULL,targetSha:$t,justification:"cross-replica"}){ id state } }`,
      { t: target },
    );
    expect(created.data?.requestRollback.state).toBe("PENDING");
    const approved = await call<{ reviewRollbackRequest: { state: string } }>(
      a,
      tokens["bob@example.com"]!,
      `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ state } }`,
      { id: created.data!.requestRollback.id },
    );
    expect(approved.data?.reviewRollbackRequest.state).toBe("COMPLETED");
    await four;
    dispose();
    await client.dispose();
    expect(states).toEqual(["PENDING", "APPROVED", "EXECUTING", "COMPLETED"]);
  });

  it("20 concurrent full rollbacks of one tenant-environment over both replicas leave a linear history and lose nothing", async () => {
    const before = Number(remoteGit("rev-list", "--count", "main").trim());
    const targets = (await revisions(a, "acme", "dev")).slice(1, 11);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call<{ requestRollback: { id: string; state: string; commitSha: string } }>(
          i % 2 === 0 ? a : b,
          tokens["jane@example.com"]!,
          `mutation($t:String!,$k:String!){ requestRollback(input:{project:"demo",tenant:"acme",environment:"dev",mode:FULL,targetSha:$t,justification:"load"}, idempotencyKey:$k){ id state commitSha } }`,
          { t: targets[i % targets.length], k: `load-${i}` },
        ),
      ),
    );
    const completed = results.filter((r) => r.data?.requestRollback.state === "COMPLETED").map((r) => r.data!.requestRollback);
    const refused = results.filter((r) => r.errors);
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(completed.length + refused.length).toBe(20);
    for (const r of refused) {
      if (r.errors![0]!.extensions?.code === "INTERNAL_SERVER_ERROR") console.log([...a.logs, ...b.logs].filter((l) => l.includes('"error"')).join("\n"));
      const { message, extensions } = r.errors![0]!;
      // Two requests for one target: the later one finds the tenant-environment already there.
      if (extensions?.code === "BAD_USER_INPUT") expect(message).toMatch(/^nothing to roll back: .*acme.*dev.* already matches revision [0-9a-f]{7}$/);
      else expect(["CONFLICT", "EXECUTION_FAILED"]).toContain(extensions?.code);
      expect(r.errors![0]!.message.length).toBeGreaterThan(10);
    }
    // Linear: no merges; every completed rollback is on the remote exactly once; nothing else appeared or vanished.
    expect(remoteGit("rev-list", "--merges", "main").trim()).toBe("");
    expect(Number(remoteGit("rev-list", "--count", "main").trim())).toBe(before + completed.length);
    for (const c of completed) expect(commitsCarrying(c.id)).toEqual([c.commitSha]);
    // Both replicas agree with the remote.
    for (const r of [a, b]) {
      const head = execFileSync("git", ["-C", path.join(root, r.name, "repos", "demo.git"), "rev-parse", "main"], { encoding: "utf8" }).trim();
      expect(remoteGit("merge-base", "--is-ancestor", head, "main")).toBe("");
    }
  });

  it("rollbacks of twelve tenant-environments of three projects at once on one replica all complete (more lock holders than pooled connections)", async () => {
    const jane = tokens["jane@example.com"]!;
    const tes = ["demo", "pro", "starter"].flatMap((project) =>
      ["acme", "globex"].flatMap((tenant) => ["dev", "staging"].map((environment) => ({ project, tenant, environment }))),
    );
    const subtree = (project: string, rev: string, dir: string) =>
      execFileSync("git", ["-C", path.join(remoteRoot, `${project}.git`), "rev-parse", `${rev}:${dir}`], { encoding: "utf8" }).trim();
    const inputs = await Promise.all(
      tes.map(async (te) => {
        const history = await call<{ deploymentHistory: { nodes: { revision: string }[] } }>(
          a,
          jane,
          `query($p:String!,$t:String!,$e:String!){ deploymentHistory(project:$p,tenant:$t,environment:$e,first:30){ nodes{ revision } } }`,
          { p: te.project, t: te.tenant, e: te.environment },
        );
        const dir = `tenants/${te.tenant}/${te.environment}`;
        const current = subtree(te.project, "main", dir);
        const target = history.data!.deploymentHistory.nodes.map((n) => n.revision).find((rev) => subtree(te.project, rev, dir) !== current)!;
        return { ...te, target };
      }),
    );
    const results = await Promise.all(
      inputs.map((i) =>
        call<{ requestRollback: { state: string } }>(
          a,
          jane,
          `mutation($p:String!,$t:String!,$e:String!,$s:String!){ requestRollback(input:{project:$p,tenant:$t,environment:$e,mode:FULL,targetSha:$s,justification:"wide incident"}){ state } }`,
          { p: i.project, t: i.tenant, e: i.environment, s: i.target },
        ),
      ),
    );
    expect(results.map((r) => r.errors?.[0]?.message ?? r.data!.requestRollback.state)).toEqual(tes.map(() => "COMPLETED"));
  }, 120_000);

  it("two approvers approving one request on two replicas at once execute it once", async () => {
    const [, target] = await revisions(a, "acme", "production");
    const created = await call<{ requestRollback: { id: string } }>(
      a,
      tokens["jane@example.com"]!,
      `mutation($t:String!){ requestRollback(input:{project:"demo",tenant:"acme",environment:"production",mode:FULL,targetSha:$t,justification:"double approval"}){ id } }`,
      { t: target },
    );
    const id = created.data!.requestRollback.id;
    const [x, y] = await Promise.all([
      call(a, tokens["bob@example.com"]!, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ state } }`, { id }),
      call(b, tokens["carol@example.com"]!, `mutation($id:ID!){ reviewRollbackRequest(id:$id, decision:APPROVE){ state } }`, { id }),
    ]);
    const outcomes = [x, y].map((r) => r.errors?.[0]?.message ?? (r.data as { reviewRollbackRequest: { state: string } }).reviewRollbackRequest.state);
    expect(outcomes).toContain("COMPLETED");
    expect(outcomes.filter((o) => o === "COMPLETED").length).toBe(1);
    expect((await requestState(a, id)).state).toBe("COMPLETED");
    expect(commitsCarrying(id)).toHaveLength(1);
  });

  for (const point of ["before-commit", "after-commit"] as const) {
    it(`a replica killed with SIGKILL ${point.replace("-", " the ")} leaves a request that recovery finishes to match Git`, async () => {
      const name = `c-${point}`;
      const c = await startReplica(name, envFor(name, { EXECUTION_PAUSE_AT: point, EXECUTION_PAUSE_MS: "120000", RECONCILE_INTERVAL_SECONDS: "3600" }));
      replicas.push(c);
      const [, target] = await revisions(c, "globex", "staging");
      const pending = call<{ requestRollback: { id: string } }>(
        c,
        tokens["jane@example.com"]!,
        `mutation($t:String!){ requestRollback(input:{project:"demo",tenant:"globex",environment:"staging",mode:FULL,targetSha:$t,justification:"crash ${point}"}, idempotencyKey:"crash-${point}"){ id } }`,
        { t: target },
      ).catch(() => null);
      // Wait until the request is EXECUTING and paused at the hook.
      let id: string | undefined;
      for (let i = 0; i < 200 && !id; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const list = await call<{ rollbackRequests: { nodes: { id: string; state: string; justification: string }[] } }>(
          a,
          tokens["jane@example.com"]!,
          `{ rollbackRequests(project:"demo", tenant:"globex", environment:"staging", state:EXECUTING){ nodes{ id state justification } } }`,
        );
        id = list.data?.rollbackRequests.nodes.find((n) => n.justification === `crash ${point}`)?.id;
        if (id && point === "after-commit" && commitsCarrying(id).length === 0) id = undefined; // wait for the push
      }
      expect(id).toBeDefined();
      c.process.kill("SIGKILL");
      await c.exited;
      await pending;
      // Restart it: recovery on start (and replica A's periodic pass) settles the request.
      const restarted = await startReplica(`${name}-again`, { ...envFor(name), RECONCILE_INTERVAL_SECONDS: "2" });
      replicas.push(restarted);
      let state = await requestState(a, id!);
      for (let i = 0; i < 120 && state.state === "EXECUTING"; i++) {
        await new Promise((r) => setTimeout(r, 250));
        state = await requestState(a, id!);
      }
      const inGit = commitsCarrying(id!);
      if (point === "before-commit") {
        expect(state.state).toBe("FAILED");
        expect(state.error).toMatch(/interrupted/);
        expect(inGit).toEqual([]);
      } else {
        expect(state.state).toBe("COMPLETED");
        expect(inGit).toEqual([state.commitSha]);
        const history = await revisions(a, "globex", "staging");
        expect(history[0]).toBe(state.commitSha);
      }
      await restarted.stop();
    }, 180_000);
  }
});
