import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { isSlug, tenantDir } from "../git/layout.js";
import { AgentError } from "./errors.js";

/** One Kubernetes object, keyed `<kind>/<namespace>/<name>`. */
export interface Resource {
  kind: string;
  name: string;
  namespace: string | null;
  manifest: Record<string, unknown>;
}

export type Resources = Record<string, Resource>;

export interface TenantEnvironmentRef {
  tenant: string;
  environment: string;
}

export interface DriftItem {
  kind: string;
  name: string;
  field: string | null;
  desired: unknown;
  actual: unknown;
}

/** At most this many drift items per tenant-environment go into a report. */
export const MAX_DRIFT_ITEMS = 100;

/** The tenant-environments of the working copy: tenants/<t>/<e>/ directories with rendered manifests. */
export async function discoverEnvironments(worktree: string, filter: { tenant: string | null; environment: string | null }): Promise<TenantEnvironmentRef[]> {
  const tenantsDir = path.join(worktree, "tenants");
  if (!existsSync(tenantsDir)) throw new AgentError("the repository has no tenants/ directory: nothing to apply", true);
  const out: TenantEnvironmentRef[] = [];
  for (const tenant of (await readdir(tenantsDir)).sort()) {
    if (!isSlug(tenant) || (filter.tenant && tenant !== filter.tenant)) continue;
    const tenantDir = path.join(tenantsDir, tenant);
    for (const environment of (await readdir(tenantDir)).sort()) {
      if (!isSlug(environment) || (filter.environment && environment !== filter.environment)) continue;
      if (existsSync(path.join(tenantDir, environment, "rendered"))) out.push({ tenant, environment });
    }
  }
  if (out.length === 0) {
    const what = [filter.tenant && `tenant "${filter.tenant}"`, filter.environment && `environment "${filter.environment}"`].filter(Boolean).join(" and ");
    throw new AgentError(what ? `no tenant-environment with ${what} in the repository` : "no tenant-environment with rendered manifests in the repository", true);
  }
  return out;
}

/** What Git says the cluster should run: every object of tenants/<t>/<e>/rendered/*.yaml. */
export async function desiredState(worktree: string, te: TenantEnvironmentRef): Promise<Resources> {
  const dir = path.join(worktree, tenantDir(te.tenant, te.environment), "rendered");
  const resources: Resources = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort()) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new AgentError(`${te.tenant}/${te.environment}/rendered/${file}: invalid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
      const manifest = doc.toJSON() as unknown;
      if (!isRecord(manifest) || typeof manifest.kind !== "string") continue;
      const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
      const name = typeof metadata.name === "string" ? metadata.name : file.replace(/\.ya?ml$/, "");
      const namespace = typeof metadata.namespace === "string" ? metadata.namespace : null;
      resources[resourceKey(manifest.kind, namespace, name)] = { kind: manifest.kind, name, namespace, manifest };
    }
  }
  return resources;
}

export function resourceKey(kind: string, namespace: string | null, name: string): string {
  return `${kind}/${namespace ?? "_"}/${name}`;
}

/**
 * What someone editing the live cluster would do (`kubectl scale`): the first Deployment gets
 * one replica more than Git says. Idempotent: applied again, it gives the same state.
 */
export function simulateDrift(desired: Resources, live: Resources): void {
  const key = Object.keys(live)
    .sort()
    .find((k) => live[k]!.kind === "Deployment");
  if (!key) return;
  const spec = live[key]!.manifest.spec;
  if (!isRecord(spec)) return;
  const want = desired[key]?.manifest.spec;
  const replicas = isRecord(want) && typeof want.replicas === "number" ? want.replicas : 1;
  spec.replicas = replicas + 1;
}

/**
 * The simulated failing workload: the Deployment of `service` in the applied state, when it runs
 * image tag `tag` (any tag when null), as a bad release crash-looping would. Null when healthy.
 */
export function failingWorkload(live: Resources, service: string, tag: string | null): { name: string; image: string } | null {
  for (const key of Object.keys(live).sort()) {
    const r = live[key]!;
    if (r.kind !== "Deployment" || r.name !== service) continue;
    const template = isRecord(r.manifest.spec) && isRecord(r.manifest.spec.template) ? r.manifest.spec.template : {};
    const containers = isRecord(template.spec) && Array.isArray(template.spec.containers) ? template.spec.containers : [];
    const image = containers.map((c) => (isRecord(c) && typeof c.image === "string" ? c.image : "")).find(Boolean) ?? "";
    if (tag === null || image.endsWith(`:${tag}`)) return { name: r.name, image };
  }
  return null;
}

/** Differences between desired (Git) and live (the applied state), one item per field, missing or extra object. */
export function computeDrift(desired: Resources, live: Resources): DriftItem[] {
  const items: DriftItem[] = [];
  for (const key of Object.keys(desired).sort()) {
    const want = desired[key]!;
    const have = live[key];
    if (!have) {
      items.push({ kind: want.kind, name: want.name, field: null, desired: "present", actual: "missing" });
      continue;
    }
    const a = flatten(want.manifest);
    const b = flatten(have.manifest);
    for (const field of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const d = a.has(field) ? a.get(field) : null;
      const l = b.has(field) ? b.get(field) : null;
      if (JSON.stringify(d) !== JSON.stringify(l)) items.push({ kind: want.kind, name: want.name, field, desired: d, actual: l });
    }
  }
  for (const key of Object.keys(live).sort()) {
    if (!desired[key]) items.push({ kind: live[key]!.kind, name: live[key]!.name, field: null, desired: "absent", actual: "present" });
  }
  return items.slice(0, MAX_DRIFT_ITEMS);
}

/** Leaf values by dotted path; arrays by index: spec.template.spec.containers[0].image. */
function flatten(value: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, []);
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) out.set(prefix, {});
    for (const k of keys) flatten(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
