import { createHash } from "node:crypto";
import { Deployment } from "../entities/deployment.js";
import { ChangeKind, DeploymentSource, DeploymentStatus, Plan, Role, TokenKind } from "../entities/enums.js";
import type { Project } from "../entities/project.js";
import { TenantEnvironment } from "../entities/tenant-environment.js";
import type { User } from "../entities/user.js";
import type { App } from "../src/app.js";
import { renderedFile, serviceDir, tenantDir } from "../src/git/layout.js";
import { stableId } from "../entities/ids.js";
import type { Actor } from "../src/services/actor.js";
import type { BenchOptions } from "./options.js";
import { bindingsYaml, valuesYaml } from "../src/seed/demo.js";
import { now } from "./stats.js";

/**
 * Generates the bench project through the product's own services (importFiles, applyDeployment),
 * so every commit carries the same trailers and index rows a real server writes. Only the long
 * histories of scenario C are synthetic rows inserted straight into the index.
 */

export const PROJECT = "bench";
export const FANOUT_PROJECT = "fanout";
export const USER_EMAIL = "bench@example.com";
export const FANOUT_EMAIL = "oncall@example.com";

const SERVICE_NAMES = [
  "api-gateway",
  "auth",
  "billing",
  "web",
  "worker",
  "search",
  "catalog",
  "cart",
  "checkout",
  "payments",
  "inventory",
  "shipping",
  "notifications",
  "email",
  "sms",
  "analytics",
  "reporting",
  "recommendations",
  "reviews",
  "pricing",
  "promotions",
  "accounts",
  "profile",
  "media",
  "edge-cache",
  "scheduler",
  "audit-log",
  "exporter",
  "importer",
  "admin",
];

export interface TeRef {
  tenant: string;
  environment: string;
  id: string;
  /** tenants/<tenant>/<environment> */
  dir: string;
}

/** A tenant-environment prepared for repeated rollbacks: two deployments whose states differ. */
export interface RollbackFixture {
  te: TeRef;
  /** The service the second deployment changed (image.tag). */
  service: string;
  /** [import, release]: rolling back alternately to each always changes something. */
  revisions: [string, string];
}

export interface HistoryFixture {
  te: TeRef;
  size: number;
}

export interface Dataset {
  dataDir: string;
  repoPath: string;
  token: string;
  fanout: { project: string; tenant: string; environment: string; token: string; targetSha: string; service: string };
  full: Record<Approach, RollbackFixture>;
  service: Record<Approach, RollbackFixture>;
  field: Record<Approach, RollbackFixture>;
  throughput: RollbackFixture[];
  /** H: the tenant-environment the agent simulator syncs while rollbacks are timed to recovery. */
  recovery: RollbackFixture;
  compare: { te: TeRef; base: string; target: string; services: number; apart: number };
  history: { small: HistoryFixture; large: HistoryFixture };
  generation: Record<string, number>;
  counts: { tenants: number; environments: number; services: number; tenantEnvironments: number; files: number; commits: number };
}

export type Approach = "graphql" | "nodegit" | "cli";
export const APPROACHES: Approach[] = ["graphql", "nodegit", "cli"];

const VARIABLES_YAML = `# Service-scoped HQ variables
LOG_LEVEL: info
FEATURE_NEW_CHECKOUT: "false"
`;

function envYaml(tenant: string, env: string): string {
  return `# Environment-level configuration for ${tenant}/${env}
cluster: ${env}-eu-1
namespace: ${tenant}-${env}
domain: ${env}.${tenant}.example.com
variables:
  REGION: eu-west-1
  OBSERVABILITY_ENDPOINT: https://otel.${tenant}.example.com
`;
}

function tenantFiles(tenant: string, env: string, services: string[]): Map<string, string> {
  const files = new Map<string, string>();
  files.set("env.yaml", envYaml(tenant, env));
  services.forEach((svc, i) => {
    files.set(`${serviceDir(svc)}/values.yaml`, valuesYaml("bench", svc, "v1.0.0", env === "production" ? 3 : env === "staging" ? 2 : 1, 8000 + i));
    files.set(`${serviceDir(svc)}/bindings.yaml`, bindingsYaml(svc));
    files.set(`${serviceDir(svc)}/variables.yaml`, VARIABLES_YAML);
  });
  return files;
}

function fakeSha(...parts: (string | number)[]): string {
  return createHash("sha1").update(parts.join(":")).digest("hex");
}

export function serviceNames(count: number): string[] {
  if (count > SERVICE_NAMES.length) return Array.from({ length: count }, (_, i) => SERVICE_NAMES[i] ?? `svc-${i + 1}`);
  return SERVICE_NAMES.slice(0, count);
}

/** Builds the whole data set into `app` (a fresh data directory). `log` gets progress lines. */
export async function generate(app: App, options: BenchOptions, log: (line: string) => void): Promise<Dataset> {
  const generation: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = now();
    const result = await work();
    generation[name] = Math.round(now() - start);
    log(`  generated ${name} in ${(generation[name]! / 1000).toFixed(1)} s`);
    return result;
  };
  const system: Actor = { kind: "system", user: null };
  const tenants = Array.from({ length: options.tenants }, (_, i) => `t${String(i + 1).padStart(2, "0")}`);
  const services = serviceNames(options.services);

  // An ENTERPRISE organization without rollback_approval: every rollback executes at once.
  // The fan-out project lives in a second organization that does require approval, so its
  // request stays PENDING and only notes change it.
  const { project, fanoutProject } = await app.db.transaction(async (tx) => {
    const org = await app.catalog.ensureOrganization("bench-org", Plan.ENTERPRISE, ["basic_rollback", "rollback", "selective_rollback"], tx);
    const project = await app.catalog.createProject(tx, { organization: org, slug: PROJECT, environments: options.environments, tenants });
    const approvalOrg = await app.catalog.ensureOrganization("bench-approvals", Plan.ENTERPRISE, ["basic_rollback", "rollback", "selective_rollback", "rollback_approval"], tx);
    const fanoutProject = await app.catalog.createProject(tx, { organization: approvalOrg, slug: FANOUT_PROJECT, environments: ["production"], tenants: ["ops"] });
    return { project, fanoutProject };
  });
  await app.approvals.setPolicy(system, FANOUT_PROJECT, "production", 1, false);
  const token = (await app.auth.createToken({ actor: system, kind: TokenKind.USER, projectSlug: PROJECT, email: USER_EMAIL, role: Role.ADMIN, label: "bench" })).token;
  const fanoutToken = (await app.auth.createToken({ actor: system, kind: TokenKind.USER, projectSlug: FANOUT_PROJECT, email: FANOUT_EMAIL, role: Role.ADMIN, label: "bench" }))
    .token;
  const user = (await app.auth.findUser(USER_EMAIL))!;
  const fanoutUser = (await app.auth.findUser(FANOUT_EMAIL))!;

  const tes = await app.catalog.allTenantEnvironments(project.id);
  const teOf = (tenant: string, env: string) => tes.find((t) => t.tenantSlug === tenant && t.environment === env)!;
  const ordered = tenants.flatMap((t) => options.environments.map((e) => teOf(t, e)));
  const ref = (te: TenantEnvironment): TeRef => ({ tenant: te.tenantSlug, environment: te.environment, id: te.id, dir: tenantDir(te.tenantSlug, te.environment) });

  const start = Date.now() - 30 * 86_400_000;
  let minute = 0;
  let commits = 0;
  const imports = new Map<string, string>();
  await step("import", async () => {
    for (const te of ordered) {
      const d = await app.deployments.importFiles(system, project, te, tenantFiles(te.tenantSlug, te.environment, services), {
        author: user,
        summary: `Import ${te.tenantSlug}/${te.environment}: ${services.length} services at v1.0.0`,
        date: new Date(start + minute++ * 60_000),
        status: DeploymentStatus.SUCCESS,
      });
      imports.set(te.id, d.revision);
      commits++;
    }
  });

  // Who gets which tenant-environment: the nine single-operation fixtures, the compare
  // environment, the two history environments, then the throughput set.
  const needed = 9 + 1 + 2 + options.throughputTenantEnvs + 1;
  if (ordered.length < needed) throw new Error(`the bench needs ${needed} tenant-environments, the options give ${ordered.length}`);
  const pool = [...ordered];
  const take = () => pool.shift()!;

  const release = async (te: TenantEnvironment, author: User, service: string, set: Record<string, unknown>, status = DeploymentStatus.SUCCESS) => {
    commits++;
    const d = await app.deployments.applyDeployment(
      system,
      project,
      te,
      author,
      { project: PROJECT, tenant: te.tenantSlug, environment: te.environment, service, source: DeploymentSource.RELEASE, set },
      { date: new Date(start + minute++ * 60_000), status },
    );
    return d.revision;
  };
  const fixture = async (te: TenantEnvironment): Promise<RollbackFixture> => {
    const service = services[0]!;
    const second = await release(te, user, service, { "image.tag": "v1.1.0" });
    return { te: ref(te), service, revisions: [imports.get(te.id)!, second] };
  };

  const fixtures = await step("rollback fixtures", async () => {
    const out = { full: {}, service: {}, field: {} } as Pick<Dataset, "full" | "service" | "field">;
    for (const kind of ["full", "service", "field"] as const) {
      for (const a of APPROACHES) out[kind][a] = await fixture(take());
    }
    return out;
  });

  const compare = await step(`compare history (${options.compareApart + 1} releases)`, async () => {
    const te = take();
    let target = "";
    for (let i = 0; i <= options.compareApart; i++) {
      const svc = services[i % services.length]!;
      const set: Record<string, unknown> = { "image.tag": `v1.${Math.floor(i / services.length) + 1}.${i}` };
      if (i % 3 === 0) set.replicas = 2 + (i % 4);
      const rev = await release(te, user, svc, set);
      if (i === 0) target = rev;
    }
    return { te: ref(te), base: te.currentRevision!, target, services: services.length, apart: options.compareApart };
  });

  const historySmall = take();
  const historyLarge = take();
  const throughputTes = pool.slice(0, options.throughputTenantEnvs);
  const throughput = await step(`throughput fixtures (${throughputTes.length})`, async () => {
    const out: RollbackFixture[] = [];
    for (const te of throughputTes) out.push(await fixture(te));
    return out;
  });
  const recovery = await fixture(pool[options.throughputTenantEnvs]!);

  const history = await step(`synthetic history (${options.historySmall} + ${options.historyLarge} rows)`, async () => ({
    small: await insertSyntheticHistory(app, historySmall, user, options.historySmall, services),
    large: await insertSyntheticHistory(app, historyLarge, user, options.historyLarge, services),
  }));

  const fanout = await step("fan-out project", async () => {
    const te = (await app.catalog.allTenantEnvironments(fanoutProject.id))[0]!;
    const fanServices = services.slice(0, 3);
    const first = await app.deployments.importFiles(system, fanoutProject, te, tenantFiles(te.tenantSlug, te.environment, fanServices), {
      author: fanoutUser,
      summary: "Import ops/production",
      date: new Date(start),
      status: DeploymentStatus.SUCCESS,
    });
    await app.deployments.applyDeployment(
      system,
      fanoutProject as Project,
      te,
      fanoutUser,
      { project: FANOUT_PROJECT, tenant: te.tenantSlug, environment: te.environment, service: fanServices[0]!, source: DeploymentSource.RELEASE, set: { "image.tag": "v9.9.9" } },
      { status: DeploymentStatus.FAILED },
    );
    return { project: FANOUT_PROJECT, tenant: te.tenantSlug, environment: te.environment, token: fanoutToken, targetSha: first.revision, service: fanServices[0]! };
  });

  return {
    dataDir: app.config.dataDir,
    repoPath: app.git.repositoryPath(PROJECT),
    token,
    fanout,
    ...fixtures,
    throughput,
    recovery,
    compare,
    history,
    generation,
    counts: {
      tenants: tenants.length,
      environments: options.environments.length,
      services: services.length,
      tenantEnvironments: ordered.length,
      files: ordered.length * (1 + services.length * 4),
      commits,
    },
  };
}

/**
 * Appends synthetic deployments to a tenant-environment's index until it holds `size`, the way
 * DeploymentService.record would: consecutive seq numbers, deployment_count in step, lastSeq and
 * currentRevision of the tenant-environment on the newest row. Revisions are fake shas: nothing
 * in scenario C reads Git.
 */
async function insertSyntheticHistory(app: App, te: TenantEnvironment, author: User, size: number, services: string[]): Promise<HistoryFixture> {
  const BATCH = 1_000;
  const fresh = await app.db.manager.findOneByOrFail(TenantEnvironment, { id: te.id });
  const from = fresh.lastSeq + 1;
  let parent = fresh.currentRevision;
  const base = Date.now() - 365 * 86_400_000;
  const counts = new Map<string, number>();
  await app.db.transaction(async (tx) => {
    for (let first = from; first <= size; first += BATCH) {
      const rows: Partial<Deployment>[] = [];
      for (let seq = first; seq < Math.min(first + BATCH, size + 1); seq++) {
        const revision = fakeSha(te.id, seq);
        const svc = services[seq % services.length]!;
        const status = seq === size ? DeploymentStatus.PENDING : seq % 50 === 0 ? DeploymentStatus.ROLLED_BACK : DeploymentStatus.SUCCESS;
        const key = `${DeploymentSource.RELEASE}|${status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        rows.push({
          id: stableId("Deployment", te.id, revision),
          projectId: te.projectId,
          tenantEnvironmentId: te.id,
          seq,
          revision,
          parentRevision: parent,
          deployedAt: new Date(base + seq * 60_000),
          authorId: author.id,
          summary: `Release ${svc} to ${te.tenantSlug}/${te.environment}: image.tag=v2.${seq}.0`,
          changes: [{ service: svc, file: "values.yaml", path: "image.tag", kind: ChangeKind.MODIFIED, before: `v2.${seq - 1}.0`, after: `v2.${seq}.0`, selector: "image.tag" }],
          files: [renderedFile(svc), `${serviceDir(svc)}/values.yaml`],
          source: DeploymentSource.RELEASE,
          status,
          rollbackRequestId: null,
        });
        parent = revision;
      }
      await tx
        .createQueryBuilder()
        .insert()
        .into(Deployment)
        .values(rows as never)
        .updateEntity(false)
        .execute();
    }
    const p = (n: number) => app.db.param(n);
    for (const [key, count] of counts) {
      const [source, status] = key.split("|");
      await tx.query(
        `INSERT INTO "deployment_count" ("tenantEnvironmentId", "source", "status", "count") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
         ON CONFLICT ("tenantEnvironmentId", "source", "status") DO UPDATE SET "count" = "deployment_count"."count" + EXCLUDED."count"`,
        [te.id, source, status, count],
      );
    }
    if (size >= from) await tx.update(TenantEnvironment, { id: te.id }, { lastSeq: size, currentRevision: parent });
  });
  return { te: { tenant: te.tenantSlug, environment: te.environment, id: te.id, dir: tenantDir(te.tenantSlug, te.environment) }, size };
}
