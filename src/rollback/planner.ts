import { RollbackMode } from "../../entities/enums.js";
import { describeChanges, loadChangeSet, type ChangeSummary, type FileChangeSet } from "../diff/comparison.js";
import { badInput, Messages } from "../errors.js";
import type { ProjectRepository, TreeWrite } from "../git/git-store.js";
import { classifyPath, ownedBy, renderedFile, serviceDir, servicePaths, tenantDir } from "../git/layout.js";
import { renderFromFiles } from "../delivery/renderer.js";
import { patchYamlFields } from "../yaml/patch.js";
import { type FieldSelector, FieldSelectorError, parseFieldSelector } from "../yaml/selectors.js";
import { lookup, parseYamlRecord, sameValue } from "../yaml/values.js";

export interface PlanInput {
  repo: ProjectRepository;
  tenant: string;
  environment: string;
  mode: RollbackMode;
  /** The revision the rollback applies on top of (the branch head). */
  head: string;
  /** The deployment to roll back to. */
  target: string;
  service?: string | null;
  fields?: FieldSelector[];
}

/** Exactly what executing a rollback now would write, and how it looks to a reviewer. */
export interface RollbackPlan {
  mode: RollbackMode;
  head: string;
  target: string;
  writes: TreeWrite[];
  /** Paths whose change since `head` would make `writes` wrong. */
  guardPaths: string[];
  /** Every file the commit will change, relative to the tenant-environment directory. */
  files: FileChangeSet[];
  comparison: ChangeSummary;
  affectedServices: string[];
}

/** Parses and checks the field selection of a FIELD rollback (empty is the spec's exact error). */
export function parseFieldSelection(fields: string[] | null | undefined): FieldSelector[] {
  const list = (fields ?? []).map((f) => f.trim()).filter((f) => f !== "");
  if (list.length === 0) throw badInput(Messages.emptyFieldSelection);
  const seen = new Set<string>();
  const out: FieldSelector[] = [];
  for (const raw of list) {
    let selector: FieldSelector;
    try {
      selector = parseFieldSelector(raw);
    } catch (err) {
      throw badInput((err as FieldSelectorError).message, { field: raw });
    }
    const key = `${selector.fileName}:${selector.segments.join(".")}`;
    if (!seen.has(key)) out.push(selector);
    seen.add(key);
  }
  return out;
}

async function serviceExists(repo: ProjectRepository, revision: string, dir: string, service: string): Promise<boolean> {
  return (await repo.entryId(revision, `${dir}/${serviceDir(service)}`)) !== null;
}

async function requireService(repo: ProjectRepository, input: PlanInput, dir: string, service: string | null | undefined, needAtHead: boolean): Promise<string> {
  if (!service || service.trim() === "") throw badInput(`service is required for ${input.mode} mode`);
  const atHead = await serviceExists(repo, input.head, dir, service);
  if (needAtHead && !atHead) {
    if (await serviceExists(repo, input.target, dir, service)) {
      throw badInput(`service "${service}" no longer exists in ${dir}/: use SERVICE mode to restore it`, { service });
    }
    throw badInput(`unknown service "${service}" in ${dir}/`, { service });
  }
  if (!atHead && !(await serviceExists(repo, input.target, dir, service))) throw badInput(`unknown service "${service}" in ${dir}/`, { service });
  return service;
}

/**
 * Plans a rollback on top of `head`. The same plan drives preview and execution, so a preview
 * shows exactly the commit that executing it would write.
 */
export async function planRollback(input: PlanInput): Promise<RollbackPlan> {
  const { repo, head, target, mode } = input;
  const dir = tenantDir(input.tenant, input.environment);
  let writes: TreeWrite[];
  let guardPaths: string[];
  let files: FileChangeSet[];

  if (mode === RollbackMode.FULL) {
    // One tree-entry swap: the directory becomes the target's, whatever its size.
    writes = [{ type: "copy", path: dir, revision: target }];
    guardPaths = [dir];
    files = await loadChangeSet(repo, dir, head, target);
  } else if (mode === RollbackMode.SERVICE) {
    const service = await requireService(repo, input, dir, input.service, false);
    const owned = servicePaths(input.tenant, input.environment, service);
    const paths = [owned.dir, owned.rendered];
    writes = paths.map((path) => ({ type: "copy" as const, path, revision: target }));
    guardPaths = paths;
    files = await loadChangeSet(repo, dir, head, target, (rel) => ownedBy(rel, service));
  } else {
    const service = await requireService(repo, input, dir, input.service, true);
    ({ writes, guardPaths, files } = await planFieldPatch(repo, dir, input, service, input.fields ?? []));
  }

  // The reviewer's view (field changes, unified diffs) is only built when something reads it: a
  // request that executes at once never does, and diffs of large files are the costliest part.
  let comparison: ChangeSummary | undefined;
  return {
    mode,
    head,
    target,
    writes: files.length === 0 ? [] : writes,
    guardPaths,
    files,
    get comparison() {
      return (comparison ??= describeChanges(dir, files));
    },
    affectedServices: servicesOf(files),
  };
}

/** The services whose folder or rendered manifest a change set touches, sorted. */
function servicesOf(files: FileChangeSet[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const owner = classifyPath(f.path);
    if (owner) names.add(owner.service);
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

async function planFieldPatch(repo: ProjectRepository, dir: string, input: PlanInput, service: string, fields: FieldSelector[]) {
  if (fields.length === 0) throw badInput(Messages.emptyFieldSelection);
  const svcDir = `${dir}/${serviceDir(service)}`;
  const byFile = new Map<string, FieldSelector[]>();
  for (const f of fields) byFile.set(f.fileName, [...(byFile.get(f.fileName) ?? []), f]);

  const headFiles = await repo.readFiles(input.head, svcDir);
  const sources = new Map<string, string | Buffer | null>(headFiles);
  const files: FileChangeSet[] = [];
  const writes: TreeWrite[] = [];
  for (const [fileName, selectors] of byFile) {
    const headText = headFiles.get(fileName)?.toString("utf8") ?? null;
    const targetText = (await repo.readFile(input.target, `${svcDir}/${fileName}`))?.toString("utf8") ?? null;
    if (headText === null && targetText === null) {
      throw badInput(`field "${selectors[0]!.raw}": ${service} has no ${fileName} at either revision`, { field: selectors[0]!.raw });
    }
    // A selected file that does not parse (any file of the folder other than the three the
    // renderer reads can hold anything) is the caller's selection that cannot apply: say which file
    // and revision, as BAD_USER_INPUT.
    const parse = (text: string | null, revision: string) => {
      try {
        return parseYamlRecord(text);
      } catch (err) {
        const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
        throw badInput(
          `field "${selectors[0]!.raw}": ${serviceDir(service)}/${fileName} at revision ${revision.slice(0, 7)} is not valid YAML (${reason}); use SERVICE mode to restore the whole file`,
          { field: selectors[0]!.raw },
        );
      }
    };
    const headData = parse(headText, input.head);
    const targetData = parse(targetText, input.target);
    const edits = selectors.map((sel) => {
      const atTarget = lookup(targetData, sel.segments);
      if (!atTarget.exists && !lookup(headData, sel.segments).exists) {
        throw badInput(`field "${sel.raw}" exists in neither revision of ${service}`, { field: sel.raw });
      }
      return { segments: sel.segments, target: atTarget };
    });
    const next = patchYamlFields(headText ?? "", edits, targetText ?? undefined);
    if (next !== (headText ?? "")) {
      const after = Buffer.from(next, "utf8");
      sources.set(fileName, after);
      files.push({ path: `${serviceDir(service)}/${fileName}`, before: headText === null ? null : Buffer.from(headText, "utf8"), after });
      writes.push({ type: "file", path: `${svcDir}/${fileName}`, content: after });
    }
  }
  const renderedPath = `${dir}/${renderedFile(service)}`;
  if (writes.length > 0) {
    const rendered = Buffer.from(renderFromFiles(input.tenant, input.environment, service, sources), "utf8");
    const before = await repo.readFile(input.head, renderedPath);
    if (!before || !before.equals(rendered)) {
      files.push({ path: renderedFile(service), before, after: rendered });
      writes.push({ type: "file", path: renderedPath, content: rendered });
    }
  }
  return { writes, guardPaths: writes.map((w) => w.path), files };
}

/**
 * What changed between a request's base and the current head in the paths it would write
 * (FULL: the directory; SERVICE: the service's files; FIELD: the selected fields). Empty: no conflict.
 */
export async function findConflicts(
  repo: ProjectRepository,
  input: { tenant: string; environment: string; mode: RollbackMode; service?: string | null; fields?: FieldSelector[] },
  base: string,
  head: string,
): Promise<string[]> {
  if (base === head) return [];
  const dir = tenantDir(input.tenant, input.environment);
  const changedEntry = async (path: string) => ((await repo.entryId(base, path)) !== (await repo.entryId(head, path)) ? [path] : []);
  if (input.mode === RollbackMode.FULL) return changedEntry(dir);
  if (input.mode === RollbackMode.SERVICE) {
    const owned = servicePaths(input.tenant, input.environment, input.service!);
    return [...(await changedEntry(owned.dir)), ...(await changedEntry(owned.rendered))];
  }
  const out: string[] = [];
  const parsed = new Map<string, [Record<string, unknown>, Record<string, unknown>]>();
  for (const sel of input.fields ?? []) {
    const path = `${dir}/${serviceDir(input.service!)}/${sel.fileName}`;
    let pair = parsed.get(path);
    if (!pair) {
      pair = [parseYamlRecord(await repo.readFile(base, path)), parseYamlRecord(await repo.readFile(head, path))];
      parsed.set(path, pair);
    }
    const [b, h] = pair;
    const before = lookup(b, sel.segments);
    const now = lookup(h, sel.segments);
    if (before.exists !== now.exists || !sameValue(before.value, now.value)) out.push(`${input.service}:${sel.raw}`);
  }
  return out;
}
