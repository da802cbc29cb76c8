import { TokenKind } from "../../entities/enums.js";
import { Organization } from "../../entities/organization.js";
import { Project } from "../../entities/project.js";
import type { Actor } from "../../src/services/actor.js";
import { EMAIL } from "./demo.js";
import type { TestServer } from "./server.js";

/**
 * What a test sets up that the API cannot make: hand-written files imported as one commit, new
 * tenants, an organization's flags, agent tokens (the CLI's job). These run in-process, on the
 * server's own services; everything a test checks goes through the API.
 */

const SYSTEM: Actor = { kind: "system", user: null };

/** A new tenant with the given environments in a seeded project, so a test owns its history. */
export async function createTenant(t: TestServer, projectSlug: string, tenant: string, environments: string[]): Promise<void> {
  const project = await t.app.db.manager.findOneByOrFail(Project, { slug: projectSlug });
  await t.app.db.transaction((tx) => t.app.catalog.ensureTenantEnvironments(tx, project, tenant, environments));
}

/**
 * Writes hand-written files into a tenant-environment as one RELEASE commit (the way the demo seed
 * imports), e.g. a values.yaml with comments and unusual formatting. Returns the commit sha.
 */
export async function importFiles(
  t: TestServer,
  projectSlug: string,
  tenant: string,
  environment: string,
  files: Record<string, string>,
  summary = "Import hand-written files",
): Promise<string> {
  const project = await t.app.db.manager.findOneByOrFail(Project, { slug: projectSlug });
  const te = await t.app.catalog.tenantEnvironment(project, tenant, environment);
  const author = await t.app.auth.findUser(EMAIL.alice);
  if (!author) throw new Error("demo user alice is missing");
  const deployment = await t.app.deployments.importFiles(SYSTEM, project, te, new Map(Object.entries(files)), { author, summary });
  return deployment.revision;
}

/** Replaces an organization's feature flags (the seeded organizations have every flag their plan uses). */
export async function setFeatures(t: TestServer, orgSlug: string, features: string[]): Promise<void> {
  await t.app.db.manager.update(Organization, { slug: orgSlug }, { features });
}

export async function agentToken(t: TestServer, project = "demo"): Promise<string> {
  const issued = await t.app.auth.createToken({ actor: SYSTEM, kind: TokenKind.AGENT, projectSlug: project, label: "test agent" });
  return issued.token;
}

export async function projectId(t: TestServer, slug: string): Promise<string> {
  return (await t.app.db.manager.findOneByOrFail(Project, { slug })).id;
}
