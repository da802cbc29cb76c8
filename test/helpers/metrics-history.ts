import { DeploymentSource, DeploymentStatus, Plan, Role, TokenKind } from "../../entities/enums.js";
import type { Project } from "../../entities/project.js";
import type { TenantEnvironment } from "../../entities/tenant-environment.js";
import type { User } from "../../entities/user.js";
import type { App } from "../../src/app.js";
import type { Actor } from "../../src/services/actor.js";
import { bindingsYaml, valuesYaml } from "../../src/seed/demo.js";

const SYSTEM: Actor = { kind: "system", user: null };

/** A project of its own, with one service "api", whose history a test writes deployment by deployment with chosen dates and statuses. */
export interface MetricsProject {
  project: Project;
  deployer: User;
  tokens: { deployer: string; viewer: string };
  te(tenant: string, environment: string): Promise<TenantEnvironment>;
  /** Imports the tenant-environment's files (one RELEASE deployment, SUCCESS) at `at`. */
  importAt(te: TenantEnvironment, at: Date): Promise<string>;
  /** A RELEASE of api's image tag at `at` with `status`; returns its revision. */
  releaseAt(te: TenantEnvironment, at: Date, tag: string, status: DeploymentStatus): Promise<string>;
}

export async function metricsProject(app: App, slug: string, environments: string[]): Promise<MetricsProject> {
  const org = await app.db.transaction((tx) => app.catalog.ensureOrganization(`${slug}-org`, Plan.ENTERPRISE, ["basic_rollback", "rollback", "selective_rollback"], tx));
  const project = await app.db.transaction((tx) => app.catalog.createProject(tx, { organization: org, slug, environments, tenants: ["acme"] }));
  const deployer = (await app.auth.createToken({ actor: SYSTEM, kind: TokenKind.USER, projectSlug: slug, email: `ops@${slug}.test`, role: Role.DEPLOYER, label: "metrics" })).token;
  const viewer = (await app.auth.createToken({ actor: SYSTEM, kind: TokenKind.USER, projectSlug: slug, email: `viewer@${slug}.test`, role: Role.VIEWER, label: "metrics" })).token;
  const user = (await app.auth.findUser(`ops@${slug}.test`))!;
  return {
    project,
    deployer: user,
    tokens: { deployer, viewer },
    te: (tenant, environment) => app.catalog.tenantEnvironment(project, tenant, environment),
    async importAt(te, at) {
      const files = new Map([
        ["env.yaml", `namespace: ${te.tenantSlug}-${te.environment}\n`],
        ["services/api/values.yaml", valuesYaml(slug, "api", "v1.0.0", 2, 8080)],
        ["services/api/bindings.yaml", bindingsYaml("api")],
        ["services/api/variables.yaml", "LOG_LEVEL: info\n"],
      ]);
      return (await app.deployments.importFiles(SYSTEM, project, te, files, { author: user, summary: "import", date: at, status: DeploymentStatus.SUCCESS })).revision;
    },
    async releaseAt(te, at, tag, status) {
      const d = await app.deployments.applyDeployment(
        SYSTEM,
        project,
        te,
        user,
        { project: slug, tenant: te.tenantSlug, environment: te.environment, service: "api", source: DeploymentSource.RELEASE, set: { "image.tag": tag } },
        { date: at, status },
      );
      return d.revision;
    },
  };
}
