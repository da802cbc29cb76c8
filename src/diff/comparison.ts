import { createTwoFilesPatch } from "diff";
import { ChangeKind } from "../../entities/enums.js";
import type { FieldChange } from "../../entities/field-change.js";
import type { ProjectRepository } from "../git/git-store.js";
import { classifyPath } from "../git/layout.js";
import { selectorOf } from "../yaml/selectors.js";
import { diffLeafMaps, flattenLeaves, parseYamlRecord } from "../yaml/values.js";

export interface FileDiffResult {
  /** Relative to the repository root. */
  path: string;
  kind: ChangeKind;
  patch: string;
}

export interface ServiceDiffResult {
  service: string;
  changes: FieldChange[];
  files: FileDiffResult[];
}

export interface ImpactResult {
  services: number;
  bindings: number;
  variables: number;
  fields: number;
  files: number;
}

export interface ChangeSummary {
  services: ServiceDiffResult[];
  environmentChanges: FieldChange[];
  /** Diffs of tenant-environment files outside any service folder (env.yaml, …). */
  environmentFiles: FileDiffResult[];
  impact: ImpactResult;
}

/** One file's content before and after, path relative to the tenant-environment directory. */
export interface FileChangeSet {
  path: string;
  before: Buffer | null;
  after: Buffer | null;
}

function isYaml(path: string): boolean {
  return /\.ya?ml$/.test(path);
}

function isText(buf: Buffer | null): boolean {
  return buf === null || !buf.subarray(0, 8000).includes(0);
}

function kindOf(before: Buffer | null, after: Buffer | null): ChangeKind {
  if (!before) return ChangeKind.ADDED;
  if (!after) return ChangeKind.REMOVED;
  return ChangeKind.MODIFIED;
}

/** A unified diff in git's shape (a/ and b/ prefixes, /dev/null for absent sides). */
export function unifiedPatch(path: string, before: Buffer | null, after: Buffer | null): string {
  if (!isText(before) || !isText(after)) return `Binary files ${before ? `a/${path}` : "/dev/null"} and ${after ? `b/${path}` : "/dev/null"} differ\n`;
  return createTwoFilesPatch(before ? `a/${path}` : "/dev/null", after ? `b/${path}` : "/dev/null", before?.toString("utf8") ?? "", after?.toString("utf8") ?? "", "", "", {
    context: 3,
  })
    .split("\n")
    .filter((line) => !line.startsWith("===="))
    .join("\n");
}

/**
 * Flattened fields of a file version, remembered per buffer: the Git store hands out one buffer
 * per blob while it is cached, so a file version is parsed once however many comparisons,
 * previews and history records read it (parsing is most of a comparison's cost).
 */
const leavesByBuffer = new WeakMap<Buffer, ReadonlyMap<string, unknown>>();
const NO_LEAVES: ReadonlyMap<string, unknown> = new Map();

function leavesOf(buf: Buffer | null): ReadonlyMap<string, unknown> {
  if (!buf) return NO_LEAVES;
  let leaves = leavesByBuffer.get(buf);
  if (!leaves) {
    leaves = flattenLeaves(parseYamlRecord(buf));
    leavesByBuffer.set(buf, leaves);
  }
  return leaves;
}

function fieldChangesOf(service: string | null, file: string, before: Buffer | null, after: Buffer | null): FieldChange[] {
  if (!isYaml(file)) return [];
  let a: ReadonlyMap<string, unknown>;
  let b: ReadonlyMap<string, unknown>;
  try {
    a = leavesOf(before);
    b = leavesOf(after);
  } catch {
    return []; // not valid YAML: the file diff still shows the change
  }
  return diffLeafMaps(a, b).map((c) => ({
    service,
    file,
    path: c.path,
    kind: c.kind as ChangeKind,
    before: c.before,
    after: c.after,
    selector: service ? selectorOf(file, c.path) : null,
  }));
}

/**
 * Describes a set of file changes inside one tenant-environment the way the API shows them:
 * per service (field changes and unified diffs), environment-level changes, and impact counts.
 * Previews, comparisons and deployment change lists all come through here, so they agree.
 */
export function describeChanges(dir: string, files: FileChangeSet[], options: { patches?: boolean } = {}): ChangeSummary {
  const withPatches = options.patches ?? true;
  const services = new Map<string, ServiceDiffResult>();
  const environmentChanges: FieldChange[] = [];
  const environmentFiles: FileDiffResult[] = [];
  const sorted = [...files].sort((x, y) => x.path.localeCompare(y.path));
  for (const f of sorted) {
    const fullPath = `${dir}/${f.path}`;
    const diff: FileDiffResult = { path: fullPath, kind: kindOf(f.before, f.after), patch: withPatches ? unifiedPatch(fullPath, f.before, f.after) : "" };
    const owner = classifyPath(f.path);
    if (owner) {
      let entry = services.get(owner.service);
      if (!entry) {
        entry = { service: owner.service, changes: [], files: [] };
        services.set(owner.service, entry);
      }
      entry.files.push(diff);
      // Rendered manifests are derived from the service's files: their diff shows, their fields do not count twice.
      if (!owner.rendered) entry.changes.push(...fieldChangesOf(owner.service, owner.file, f.before, f.after));
    } else {
      environmentFiles.push(diff);
      environmentChanges.push(...fieldChangesOf(null, f.path, f.before, f.after));
    }
  }
  const serviceList = [...services.values()].sort((x, y) => x.service.localeCompare(y.service));
  const allChanges = [...serviceList.flatMap((s) => s.changes), ...environmentChanges];
  return {
    services: serviceList,
    environmentChanges,
    environmentFiles,
    impact: {
      services: serviceList.length,
      bindings: allChanges.filter((c) => c.service && c.file === "bindings.yaml").length,
      variables: allChanges.filter((c) => (c.service && c.file === "variables.yaml") || (!c.service && c.file === "env.yaml" && c.path.startsWith("variables."))).length,
      fields: allChanges.length,
      files: files.length,
    },
  };
}

/** Loads both sides of every file that differs below `dir` between two revisions. */
export async function loadChangeSet(repo: ProjectRepository, dir: string, from: string | null, to: string, filter?: (rel: string) => boolean): Promise<FileChangeSet[]> {
  const changed = await repo.changedFiles(from, to, dir);
  const relevant = filter ? changed.filter((c) => filter(c.path)) : changed;
  // The diff names both blobs: read them by id, no path lookups in either tree.
  return Promise.all(
    relevant.map(async (c) => ({
      path: c.path,
      before: c.before ? await repo.readBlob(c.before) : null,
      after: c.after ? await repo.readBlob(c.after) : null,
    })),
  );
}

/** What moving the tenant-environment at `dir` from `base` to `target` changes. */
export async function compareRevisions(repo: ProjectRepository, dir: string, base: string, target: string): Promise<ChangeSummary> {
  return describeChanges(dir, await loadChangeSet(repo, dir, base, target));
}
