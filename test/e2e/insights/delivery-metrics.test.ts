import type { Logger as TypeOrmLogger } from "typeorm";
import { beforeAll, describe, expect, it } from "vitest";
import { DeploymentStatus } from "../../../entities/enums.js";
import { mustRequest } from "../../helpers/operations.js";
import { useTestServer } from "../../helpers/server.js";
import { metricsProject, type MetricsProject } from "../../helpers/metrics-history.js";

const METRICS = `query($p:String!,$t:String,$e:String,$s:DateTime,$u:DateTime){
  deliveryMetrics(project:$p, tenant:$t, environment:$e, since:$s, until:$u){
    tenant environment since until deployments deploymentsPerDay changeFailureRate rollbacks meanTimeToRecoverySeconds
    recurringRollbacks { service targetRevision count lastAt } } }`;

interface Figures {
  tenant: string;
  environment: string;
  since: string;
  until: string;
  deployments: number;
  deploymentsPerDay: number;
  changeFailureRate: number;
  rollbacks: number;
  meanTimeToRecoverySeconds: number | null;
  recurringRollbacks: { service: string | null; targetRevision: string; count: number; lastAt: string }[];
}

const SECOND = 1000;
const DAY = 86_400_000;

/**
 * Delivery metrics on a history written deployment by deployment (dates and statuses chosen
 * here, rollbacks made through the API), each expected figure worked out by hand below.
 */
describe("deliveryMetrics", () => {
  const t = useTestServer();
  let m: MetricsProject;
  // The period: [since, until) = 11 days, on whole seconds (Git commit times are).
  const since = new Date(Math.floor((Date.now() - 10 * DAY) / SECOND) * SECOND);
  const until = new Date(since.getTime() + 11 * DAY);
  const at = (offset: number) => new Date(since.getTime() + offset);
  const rev: Record<string, string> = {};
  const deployedAt: Record<string, number> = {};
  const ask = (vars: Record<string, unknown>, token = m.tokens.viewer) =>
    t.gql<{ deliveryMetrics: Figures[] }>(token, METRICS, { p: "metrics", s: since.toISOString(), u: until.toISOString(), ...vars });

  beforeAll(async () => {
    m = await metricsProject(t.app, "metrics", ["dev", "staging", "production"]);
    const prod = await m.te("acme", "production");
    const staging = await m.te("acme", "staging");
    const dev = await m.te("acme", "dev");

    // production: before the period, an import and a failure (neither counts).
    await m.importAt(prod, at(-20 * DAY));
    rev.old = await m.releaseAt(prod, at(-SECOND), "v0.9.0", DeploymentStatus.FAILED);
    // In the period: r1 at its very start, r2 fails and r3 restores it half an hour later, r4 is rolled back to r3 (R1).
    rev.r1 = await m.releaseAt(prod, at(0), "v1.1.0", DeploymentStatus.SUCCESS);
    rev.r2 = await m.releaseAt(prod, at(2 * DAY), "v1.2.0", DeploymentStatus.FAILED);
    rev.r3 = await m.releaseAt(prod, at(2 * DAY + 30 * 60 * SECOND), "v1.2.1", DeploymentStatus.SUCCESS);
    rev.r4 = await m.releaseAt(prod, at(3 * DAY), "v1.3.0", DeploymentStatus.PENDING);
    rev.R1 = (await mustRequest(t, m.tokens.deployer, { project: "metrics", tenant: "acme", environment: "production", targetSha: rev.r3 })).commitSha!;
    // r5 now, rolled back to r3 again (R2): r3 is a recurring target.
    rev.r5 = await m.releaseAt(prod, new Date(), "v1.4.0", DeploymentStatus.PENDING);
    rev.R2 = (await mustRequest(t, m.tokens.deployer, { project: "metrics", tenant: "acme", environment: "production", targetSha: rev.r3 })).commitSha!;

    // staging: s1 good; s2 fails and api alone is rolled back to s1 (Q1); s3 likewise (Q2).
    await m.importAt(staging, at(-20 * DAY));
    rev.s1 = await m.releaseAt(staging, at(1 * DAY), "v1.1.0", DeploymentStatus.SUCCESS);
    rev.s2 = await m.releaseAt(staging, at(4 * DAY), "v1.2.0", DeploymentStatus.FAILED);
    rev.Q1 = (
      await mustRequest(t, m.tokens.deployer, { project: "metrics", tenant: "acme", environment: "staging", targetSha: rev.s1, mode: "SERVICE", service: "api" })
    ).commitSha!;
    rev.s3 = await m.releaseAt(staging, new Date(), "v1.3.0", DeploymentStatus.PENDING);
    rev.Q2 = (
      await mustRequest(t, m.tokens.deployer, { project: "metrics", tenant: "acme", environment: "staging", targetSha: rev.s1, mode: "SERVICE", service: "api" })
    ).commitSha!;

    // dev: one failure nothing restored.
    await m.importAt(dev, at(-20 * DAY));
    rev.d1 = await m.releaseAt(dev, at(5 * DAY), "v2.0.0", DeploymentStatus.FAILED);

    for (const environment of ["production", "staging"]) {
      const h = await t.ok<{ deploymentHistory: { nodes: { revision: string; deployedAt: string; status: string }[] } }>(
        m.tokens.viewer,
        `query($e:String!){ deploymentHistory(project:"metrics", tenant:"acme", environment:$e, first:50){ nodes { revision deployedAt status } } }`,
        { e: environment },
      );
      for (const d of h.deploymentHistory.nodes) deployedAt[d.revision] = Date.parse(d.deployedAt);
      if (environment === "production")
        expect(Object.fromEntries(h.deploymentHistory.nodes.map((d) => [d.revision, d.status]))).toMatchObject({
          [rev.r4!]: "ROLLED_BACK",
          [rev.r5!]: "ROLLED_BACK",
          [rev.r2!]: "FAILED",
        });
      else expect(Object.fromEntries(h.deploymentHistory.nodes.map((d) => [d.revision, d.status]))).toMatchObject({ [rev.s2!]: "ROLLED_BACK", [rev.s3!]: "ROLLED_BACK" });
    }
  });

  it("figures per tenant-environment, worked out by hand", async () => {
    const res = await ask({});
    expect(res.errors).toBeUndefined();
    const [dev, production, staging] = res.data!.deliveryMetrics;
    const seconds = (from: string, to: string) => (deployedAt[rev[to]!]! - deployedAt[rev[from]!]!) / 1000;

    // dev: d1 only; it failed and nothing restored it.
    expect(dev).toEqual({
      tenant: "acme",
      environment: "dev",
      since: since.toISOString(),
      until: until.toISOString(),
      deployments: 1,
      deploymentsPerDay: 1 / 11,
      changeFailureRate: 1,
      rollbacks: 0,
      meanTimeToRecoverySeconds: null,
      recurringRollbacks: [],
    });

    // production: r1..r5 are the deployments (old is before the period, R1 and R2 are rollbacks);
    // r2 FAILED, r4 and r5 ROLLED_BACK: 3 of 5. r2 was restored by r3 after 1800 s, r4 by R1, r5 by R2.
    expect(production).toMatchObject({ environment: "production", deployments: 5, changeFailureRate: 3 / 5, rollbacks: 2 });
    expect(production!.deploymentsPerDay).toBeCloseTo(5 / 11, 12);
    expect(seconds("r2", "r3")).toBe(1800);
    expect(production!.meanTimeToRecoverySeconds).toBeCloseTo((1800 + seconds("r4", "R1") + seconds("r5", "R2")) / 3, 6);
    expect(production!.recurringRollbacks).toEqual([{ service: null, targetRevision: rev.r3, count: 2, lastAt: new Date(deployedAt[rev.R2!]!).toISOString() }]);

    // staging: s1, s2, s3; s2 and s3 rolled back (2 of 3), each restored by its SERVICE rollback to s1.
    expect(staging).toMatchObject({ environment: "staging", deployments: 3, changeFailureRate: 2 / 3, rollbacks: 2 });
    expect(staging!.meanTimeToRecoverySeconds).toBeCloseTo((seconds("s2", "Q1") + seconds("s3", "Q2")) / 2, 6);
    expect(staging!.recurringRollbacks).toEqual([{ service: "api", targetRevision: rev.s1, count: 2, lastAt: new Date(deployedAt[rev.Q2!]!).toISOString() }]);
  });

  it("a period that ends before a failure's recovery still counts the recovery after it", async () => {
    // [r2 - 1 s, r3): only r2 is in it, and r3 (just after the period) restored it.
    const res = await ask({ e: "production", s: at(2 * DAY - SECOND).toISOString(), u: at(2 * DAY + 30 * 60 * SECOND).toISOString() });
    expect(res.data!.deliveryMetrics).toEqual([
      expect.objectContaining({ deployments: 1, changeFailureRate: 1, rollbacks: 0, meanTimeToRecoverySeconds: 1800, recurringRollbacks: [] }),
    ]);
  });

  it("filters by tenant and environment; the default period is the 30 days up to now", async () => {
    const one = await ask({ t: "acme", e: "staging" });
    expect(one.data!.deliveryMetrics.map((f) => f.environment)).toEqual(["staging"]);
    const before = Date.now();
    const defaults = await t.ok<{ deliveryMetrics: Figures[] }>(m.tokens.viewer, `{ deliveryMetrics(project:"metrics", environment:"dev"){ since until deployments } }`);
    const [dev] = defaults.deliveryMetrics;
    expect(Date.parse(dev!.until)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(dev!.until) - Date.parse(dev!.since)).toBe(30 * DAY);
    // The import 30 days back is outside, d1 inside.
    expect(dev!.deployments).toBe(1);
  });

  it.each([
    [{ e: "qa" }, "NOT_FOUND", /environment "qa"|no tenant-environment/],
    [{ t: "nobody" }, "NOT_FOUND", /tenant "nobody"/],
    [{ s: until.toISOString(), u: since.toISOString() }, "BAD_USER_INPUT", /since .* must be before until/],
    [{ s: new Date(until.getTime() - 400 * DAY).toISOString() }, "BAD_USER_INPUT", /at most 366 days/],
    [{ s: "yesterday" }, "BAD_USER_INPUT", /DateTime/],
  ])("refuses %j", async (vars, code, message) => {
    const res = await ask(vars);
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it("another organization's project does not exist for the caller", async () => {
    const res = await t.gql(t.tokens["jane@example.com"]!, METRICS, { p: "metrics" });
    expect(res.errors?.[0]).toMatchObject({ message: 'project "metrics" not found', extensions: { code: "NOT_FOUND", status: 404 } });
  });

  it("reads the period through indexes: no query scans the deployment history", async () => {
    const sqlite = t.app.db.dataSource;
    const captured: { query: string; parameters: unknown[] }[] = [];
    const original = sqlite.logger;
    const noop = () => undefined;
    sqlite.logger = {
      logQuery: (query: string, parameters?: unknown[]) => captured.push({ query, parameters: parameters ?? [] }),
      logQueryError: noop,
      logQuerySlow: noop,
      logSchemaBuild: noop,
      logMigration: noop,
      log: noop,
    } as TypeOrmLogger;
    try {
      const res = await ask({});
      expect(res.errors).toBeUndefined();
    } finally {
      sqlite.logger = original;
    }
    const onDeployments = captured.filter((c) => /FROM "deployment"/.test(c.query));
    expect(onDeployments.length).toBeGreaterThanOrEqual(2);
    for (const c of onDeployments) {
      const plan = (await sqlite.query(`EXPLAIN QUERY PLAN ${c.query}`, c.parameters)) as { detail: string }[];
      const details = plan.map((p) => p.detail).join("; ");
      expect(details, c.query).toMatch(/SEARCH d USING (COVERING )?INDEX/);
      expect(details, c.query).not.toMatch(/SCAN d\b/);
    }
  });
});
