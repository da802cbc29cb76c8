/**
 * The repository layout every part of the product agrees on (the server, the delivery generator,
 * the planner, the history index and the agent simulator):
 *
 *   tenants/<tenant>/<environment>/            one tenant-environment
 *     env.yaml                                 environment-level configuration
 *     services/<service>/values.yaml, ...      a service's source files
 *     rendered/<service>.yaml                  its manifest, generated from those files
 *
 * Paths are '/'-separated and relative to the repository root unless a function says it works
 * inside one tenant-environment's directory.
 */

/** Project, tenant, environment and service names: lowercase letters, digits and inner dashes, 1 to 64 characters. */
export const SLUG_PATTERN = "[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?";
const SLUG = new RegExp(`^${SLUG_PATTERN}$`);

export function isSlug(value: string): boolean {
  return SLUG.test(value);
}

/** A project's repository as Git clients (the agent, Argo CD's repoURL) fetch it from the server at `base`. */
export function repositoryUrl(base: string, project: string): string {
  return `${base}/git/${project}.git`;
}

/** The directory of one tenant-environment, without a trailing slash. */
export function tenantDir(tenant: string, environment: string): string {
  return `tenants/${tenant}/${environment}`;
}

/** The folder of every service's folder, inside a tenant-environment's directory. */
export const SERVICES_DIR = "services";

/** A service's folder inside a tenant-environment's directory. */
export function serviceDir(service: string): string {
  return `${SERVICES_DIR}/${service}`;
}

/** A service's rendered manifest inside a tenant-environment's directory. */
export function renderedFile(service: string): string {
  return `rendered/${service}.yaml`;
}

/** The two entries a service owns in a tenant-environment: its folder and its rendered manifest (repository paths). */
export function servicePaths(tenant: string, environment: string, service: string): { dir: string; rendered: string } {
  const te = tenantDir(tenant, environment);
  return { dir: `${te}/${serviceDir(service)}`, rendered: `${te}/${renderedFile(service)}` };
}

const SERVICE_FILE = /^services\/([^/]+)\/(.+)$/;
const RENDERED_FILE = /^rendered\/([^/]+)\.yaml$/;

/**
 * Which service a path inside a tenant-environment's directory belongs to, and its path inside the
 * service folder (for a rendered manifest, the path itself); null for environment-level files.
 */
export function classifyPath(rel: string): { service: string; file: string; rendered: boolean } | null {
  const svc = SERVICE_FILE.exec(rel);
  if (svc) return { service: svc[1]!, file: svc[2]!, rendered: false };
  const rendered = RENDERED_FILE.exec(rel);
  if (rendered) return { service: rendered[1]!, file: rel, rendered: true };
  return null;
}

/** Whether a path inside a tenant-environment's directory is one of `service`'s files or its manifest. */
export function ownedBy(rel: string, service: string): boolean {
  return classifyPath(rel)?.service === service;
}
