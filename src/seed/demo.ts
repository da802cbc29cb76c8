import { writeFile } from "node:fs/promises";
import path from "node:path";
import { DeploymentSource, DeploymentStatus, Plan, Role, TokenKind } from "../../entities/enums.js";
import { Project } from "../../entities/project.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { User } from "../../entities/user.js";
import type { Services } from "../app.js";
import { serviceDir } from "../git/layout.js";
import type { Actor } from "../services/actor.js";

/**
 * The demo data a new user gets on first start: three organizations (one per plan), a project
 * each, two tenants in three environments, five services, and weeks of realistic history made
 * through the same services the API uses (so every commit carries the same trailers).
 */

export const DEMO_ORGANIZATIONS = [
  { slug: "acme-corp", plan: Plan.ENTERPRISE, features: ["basic_rollback", "rollback", "selective_rollback", "rollback_approval"], project: "demo" },
  { slug: "midsize", plan: Plan.PRO, features: ["basic_rollback", "rollback", "selective_rollback"], project: "pro" },
  { slug: "startup", plan: Plan.FREE, features: ["basic_rollback", "rollback"], project: "starter" },
] as const;

export const DEMO_ENVIRONMENTS = ["dev", "staging", "production"] as const;
export const DEMO_TENANTS = ["acme", "globex"] as const;
export const DEMO_SERVICES = ["api-gateway", "auth", "billing", "web", "worker"] as const;

export const DEMO_USERS: { email: string; name: string; role: Role; projects: string[] }[] = [
  { email: "jane@example.com", name: "Jane Doe", role: Role.DEPLOYER, projects: ["demo", "pro", "starter"] },
  { email: "bob@example.com", name: "Bob Smith", role: Role.APPROVER, projects: ["demo", "pro", "starter"] },
  { email: "carol@example.com", name: "Carol White", role: Role.APPROVER, projects: ["demo", "pro", "starter"] },
  { email: "alice@example.com", name: "Alice Admin", role: Role.ADMIN, projects: ["demo", "pro", "starter"] },
  { email: "victor@example.com", name: "Victor Viewer", role: Role.VIEWER, projects: ["demo", "pro", "starter"] },
  { email: "mallory@example.com", name: "Mallory Outsider", role: Role.DEPLOYER, projects: ["starter"] },
];

export interface SeedOptions {
  /** Deployments per tenant-environment after the first import (at least 25 for the demo). */
  deploymentsPerEnvironment?: number;
  /** Which projects to create (default: all three). */
  projects?: string[];
  /** The newest deployment happens this long before now. */
  now?: Date;
}

export interface SeedResult {
  tokens: Record<string, string>;
  tokensFile: string;
}

/** Seeds the demo unless the database already has projects or the data directory has repositories. */
export async function seedDemoIfEmpty(app: Services, options: SeedOptions = {}): Promise<SeedResult | null> {
  // Replicas starting together on one database: the first seeds, the others find it done.
  return app.db.withProjectLock("demo-seed", async () => {
    if ((await app.db.manager.count(Project)) > 0) return null;
    // Only into an empty data directory: repositories without a database are someone's real history.
    if ((await app.git.list()).length > 0) return null;
    app.logger.info("seeding the demo: first start on an empty database");
    return seedDemo(app, options);
  });
}

/** A small deterministic PRNG (mulberry32), so every fresh demo has the same history. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const PORTS: Record<string, number> = { "api-gateway": 8080, auth: 8081, billing: 8082, web: 3000, worker: 9090 };

/** A service's values.yaml as the demo (and the benchmark's generated projects) write it. */
export function valuesYaml(org: string, service: string, tag: string, replicas: number, port = PORTS[service] ?? 8080): string {
  return `# ${service} workload values
image:
  repository: registry.example.com/${org}/${service}
  tag: "${tag}"
replicas: ${replicas}
port: ${port}
resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    cpu: 500m # raise with care: billed per core
    memory: 512Mi
env:
  - name: LOG_FORMAT
    value: json
  - name: SERVICE_NAME
    value: ${service}
probes:
  path: /healthz
`;
}

export function bindingsYaml(service: string): string {
  return `# Kustomize and manifest bindings of ${service}
kustomize:
  path: services/${service}/kustomize
manifests:
  - base/deployment.yaml
  - base/service.yaml
labels:
  team: ${service === "web" ? "frontend" : "platform"}
`;
}

function variablesYaml(): string {
  return `# Service-scoped HQ variables
LOG_LEVEL: info
FEATURE_NEW_CHECKOUT: "false"
`;
}

function envYaml(tenant: string, env: string): string {
  return `# Environment-level configuration for ${tenant}/${env}
cluster: ${env === "production" ? "prod-eu-1" : `${env}-eu-1`}
namespace: ${tenant}-${env}
domain: ${env === "production" ? "" : `${env}.`}${tenant}.example.com
variables:
  REGION: eu-west-1
  OBSERVABILITY_ENDPOINT: https://otel.${tenant}.example.com
`;
}

interface Step {
  te: TenantEnvironment;
  at: Date;
  author: User;
  source: DeploymentSource;
  service: string;
  set?: Record<string, unknown>;
  fromEnvironment?: string;
  summary?: string;
}

export async function seedDemo(app: Services, options: SeedOptions = {}): Promise<SeedResult> {
  const system: Actor = { kind: "system", user: null };
  const perEnv = options.deploymentsPerEnvironment ?? 26;
  const now = options.now ?? new Date();
  const wanted = DEMO_ORGANIZATIONS.filter((o) => !options.projects || options.projects.includes(o.project));

  const projects = await app.db.transaction(async (tx) => {
    const out: { project: Project; org: string }[] = [];
    for (const o of wanted) {
      const org = await app.catalog.ensureOrganization(o.slug, o.plan, [...o.features], tx);
      const project = await app.catalog.createProject(tx, {
        organization: org,
        slug: o.project,
        environments: [...DEMO_ENVIRONMENTS],
        tenants: [...DEMO_TENANTS],
      });
      out.push({ project, org: o.slug });
    }
    return out;
  });
  for (const { project } of projects) await app.approvals.setPolicy(system, project.slug, "production", 1, false);

  // Users and their tokens; each user belongs to the organization of their first project.
  const tokens: Record<string, string> = {};
  const users = new Map<string, User>();
  for (const u of DEMO_USERS) {
    const inSeed = u.projects.filter((p) => projects.some((x) => x.project.slug === p));
    if (inSeed.length === 0) continue;
    const issued = await app.auth.createToken({ actor: system, kind: TokenKind.USER, projectSlug: inSeed[0]!, email: u.email, role: u.role, label: "demo" });
    tokens[u.email] = issued.token;
    const user = (await app.auth.findUser(u.email))!;
    for (const slug of inSeed.slice(1)) {
      const project = projects.find((x) => x.project.slug === slug)!.project;
      await app.auth.grant(user, project, u.role);
    }
    if (user.name !== u.name) {
      user.name = u.name;
      await app.db.transaction((tx) => tx.save(user));
    }
    users.set(u.email, user);
  }
  // A user's token acts as the user, so it works in every project where they have a role.
  const tokensFile = path.join(app.config.dataDir, "demo-tokens.json");
  await writeFile(tokensFile, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });

  for (const { project, org } of projects) {
    const repo = await app.git.open(project.slug);
    await repo.publishOnce(() => seedHistory(app, system, project, org, users, perEnv, now));
  }
  return { tokens, tokensFile };
}

async function seedHistory(app: Services, system: Actor, project: Project, org: string, users: Map<string, User>, perEnv: number, now: Date): Promise<void> {
  const rand = prng(hash(project.slug));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const deployers = ["jane@example.com", "alice@example.com", "bob@example.com", "carol@example.com", ...(project.slug === "starter" ? ["mallory@example.com"] : [])]
    .map((e) => users.get(e))
    .filter((u): u is User => Boolean(u));
  const days = 42;
  const start = new Date(now.getTime() - days * 86_400_000);
  const tes = await app.catalog.allTenantEnvironments(project.id);
  const teOf = (tenant: string, env: string) => tes.find((t) => t.tenantSlug === tenant && t.environment === env)!;

  // First import of every tenant-environment: all services at v1.0.0.
  let minute = 0;
  for (const tenant of DEMO_TENANTS) {
    for (const env of DEMO_ENVIRONMENTS) {
      const files = new Map<string, string>();
      files.set("env.yaml", envYaml(tenant, env));
      for (const svc of DEMO_SERVICES) {
        files.set(`${serviceDir(svc)}/values.yaml`, valuesYaml(org, svc, "v1.0.0", env === "production" ? 3 : env === "staging" ? 2 : 1));
        files.set(`${serviceDir(svc)}/bindings.yaml`, bindingsYaml(svc));
        files.set(`${serviceDir(svc)}/variables.yaml`, variablesYaml());
      }
      await app.deployments.importFiles(system, project, teOf(tenant, env), files, {
        author: users.get("alice@example.com")!,
        summary: `Import ${tenant}/${env}: ${DEMO_SERVICES.length} services at v1.0.0`,
        date: new Date(start.getTime() + minute++ * 60_000),
        status: DeploymentStatus.SUCCESS,
      });
    }
  }

  // Then rounds: dev gets releases, staging and production get promotions and config changes.
  const version = new Map<string, number>(); // tenant/service -> minor version released to dev
  const state = new Map<string, { tag: string; replicas: number; logLevel: string }>();
  for (const tenant of DEMO_TENANTS) {
    for (const env of DEMO_ENVIRONMENTS) {
      for (const svc of DEMO_SERVICES) state.set(`${tenant}/${env}/${svc}`, { tag: "v1.0.0", replicas: env === "production" ? 3 : env === "staging" ? 2 : 1, logLevel: "info" });
    }
  }
  const steps: Step[] = [];
  const span = (days - 1) * 86_400_000;
  for (let round = 0; round < perEnv; round++) {
    for (const tenant of DEMO_TENANTS) {
      DEMO_ENVIRONMENTS.forEach((env, envIndex) => {
        const at = new Date(start.getTime() + 3_600_000 + (span * round) / perEnv + envIndex * 3 * 3_600_000 + Math.floor(rand() * 3_600_000));
        const author = pick(deployers);
        const te = teOf(tenant, env);
        const svc = pick(DEMO_SERVICES);
        const key = `${tenant}/${env}/${svc}`;
        const s = state.get(key)!;
        const roll = rand();
        if (env === "dev" || roll < 0.2) {
          if (env === "dev" && roll < 0.65) {
            const minor = (version.get(`${tenant}/${svc}`) ?? 0) + 1;
            version.set(`${tenant}/${svc}`, minor);
            s.tag = `v1.${minor}.0`;
            steps.push({ te, at, author, source: DeploymentSource.RELEASE, service: svc, set: { "image.tag": s.tag } });
          } else if (roll < 0.85) {
            s.replicas = s.replicas >= 5 ? s.replicas - 1 : s.replicas + 1;
            steps.push({ te, at, author, source: DeploymentSource.RELEASE, service: svc, set: { replicas: s.replicas } });
          } else {
            s.logLevel = s.logLevel === "info" ? "debug" : "info";
            steps.push({ te, at, author, source: DeploymentSource.RELEASE, service: svc, set: { "variables:LOG_LEVEL": s.logLevel } });
          }
        } else {
          const from = DEMO_ENVIRONMENTS[envIndex - 1]!;
          const candidates = DEMO_SERVICES.filter((x) => JSON.stringify(state.get(`${tenant}/${from}/${x}`)) !== JSON.stringify(state.get(`${tenant}/${env}/${x}`)));
          if (candidates.length === 0) {
            s.logLevel = s.logLevel === "info" ? "debug" : "info";
            steps.push({ te, at, author, source: DeploymentSource.RELEASE, service: svc, set: { "variables:LOG_LEVEL": s.logLevel } });
          } else {
            const chosen = pick(candidates);
            state.set(`${tenant}/${env}/${chosen}`, { ...state.get(`${tenant}/${from}/${chosen}`)! });
            steps.push({ te, at, author, source: DeploymentSource.PROMOTION, service: chosen, fromEnvironment: from });
          }
        }
      });
    }
  }

  // The incident of the demo story: a bad api-gateway tag reached acme's production.
  const prod = teOf("acme", "production");
  const bad = new Date(now.getTime() - 2 * 3_600_000);
  steps.push({
    te: prod,
    at: bad,
    author: users.get("jane@example.com")!,
    source: DeploymentSource.RELEASE,
    service: "api-gateway",
    set: { "image.tag": "v2.1.0" },
    summary: "Release api-gateway v2.1.0 to acme/production",
  });

  steps.sort((a, b) => a.at.getTime() - b.at.getTime());
  const newest = new Map<string, Step>();
  for (const step of steps) newest.set(step.te.id, step);
  for (const step of steps) {
    const isBad = step.at === bad;
    const status = isBad ? DeploymentStatus.FAILED : newest.get(step.te.id) === step ? DeploymentStatus.PENDING : DeploymentStatus.SUCCESS;
    await app.deployments.applyDeployment(
      system,
      project,
      step.te,
      step.author,
      {
        project: project.slug,
        tenant: step.te.tenantSlug,
        environment: step.te.environment,
        service: step.service,
        source: step.source,
        set: step.set ?? null,
        fromEnvironment: step.fromEnvironment ?? null,
        summary: step.summary ?? null,
      },
      { date: step.at, status },
    );
  }
}
