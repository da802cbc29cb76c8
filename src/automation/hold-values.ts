import type { FieldChange } from "../../entities/field-change.js";
import { ChangeKind, RollbackMode } from "../../entities/enums.js";
import type { ProjectRepository, TreeWrite } from "../git/git-store.js";
import { selectionCovers } from "../history/rolled-back.js";
import { tenantDir } from "../git/layout.js";
import { type FieldSelector, parseFieldSelector, selectorOf } from "../yaml/selectors.js";
import { lookup, parseYamlRecord, sameValue } from "../yaml/values.js";

/** One value of one field of one service: what a hold keeps from coming back. */
export interface HeldField {
  service: string;
  /** Selector as FIELD mode takes it: `image.tag`, `variables:LOG_LEVEL`. */
  field: string;
  value: unknown;
}

/** Same service, same file and path (however the selector was spelled), same value. */
export function heldFieldKey(h: HeldField): string {
  const sel = parseFieldSelector(h.field);
  return `${h.service}\0${sel.fileName}\0${sel.segments.join(".")}\0${JSON.stringify(h.value ?? null)}`;
}

export function formatHeldValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** The spec's CONFLICT message, every offending value listed, grouped by the rollback that holds it. */
export function reintroducedMessage(holds: (HeldField & { rollbackRequestId: string })[]): string {
  const groups = new Map<string, string[]>();
  for (const h of holds) groups.set(h.rollbackRequestId, [...(groups.get(h.rollbackRequestId) ?? []), `${h.service} ${h.field} = ${formatHeldValue(h.value)}`]);
  return `deployment re-introduces values ${[...groups].map(([id, items]) => `held after rollback ${id}: ${items.join(", ")}`).join("; ")}`;
}

/** The scope of a rollback, as far as holds are concerned: which service fields it reverted. */
export interface RevertScope {
  mode: RollbackMode;
  service: string | null;
  selected: FieldSelector[];
}

export function revertScopeOf(request: { mode: RollbackMode; service: string | null; selectedFields: string[] }): RevertScope {
  return { mode: request.mode, service: request.service, selected: request.mode === RollbackMode.FIELD ? request.selectedFields.map((f) => parseFieldSelector(f)) : [] };
}

export function inRevertScope(scope: RevertScope, service: string, fileName: string, path: string): boolean {
  if (scope.mode === RollbackMode.FULL) return true;
  if (service !== scope.service) return false;
  return scope.mode === RollbackMode.SERVICE || selectionCovers(scope.selected, fileName, path);
}

/** Longest selector a hold keeps (the column's size); longer paths are not held. */
export const MAX_HELD_FIELD = 500;

/**
 * The values that deployments put in place and a rollback reverted: every added or modified
 * service field in its scope, once per value. Removed fields hold nothing (there is no value to
 * bring back); environment-level files belong to no service; fields a selector cannot name (files
 * in subfolders of the service) cannot be held either.
 */
export function undoneValues(changes: FieldChange[], scope: RevertScope): HeldField[] {
  const out = new Map<string, HeldField>();
  for (const c of changes) {
    if (!c.service || c.kind === ChangeKind.REMOVED || !inRevertScope(scope, c.service, c.file, c.path)) continue;
    const held = { service: c.service, field: selectorOf(c.file, c.path), value: c.after };
    if (!isHoldable(held.field)) continue;
    out.set(heldFieldKey(held), held);
  }
  return [...out.values()];
}

function isHoldable(field: string): boolean {
  if (field.length > MAX_HELD_FIELD) return false;
  try {
    parseFieldSelector(field);
    return true;
  } catch {
    return false;
  }
}

/** Reads service fields at one revision, parsing each file once. */
export class FieldReader {
  private readonly parsed = new Map<string, Promise<Record<string, unknown> | null>>();

  constructor(private readonly read: (path: string) => Promise<string | Buffer | null>) {}

  static atRevision(repo: ProjectRepository, revision: string): FieldReader {
    return new FieldReader((path) => repo.readFile(revision, path));
  }

  /** The revision `head` with `writes` applied (what a commit of them would hold). */
  static afterWrites(repo: ProjectRepository, head: string, writes: TreeWrite[]): FieldReader {
    return new FieldReader((path) => fileAfterWrites(repo, head, writes, path));
  }

  async value(tenant: string, environment: string, h: Pick<HeldField, "service" | "field">): Promise<{ exists: boolean; value: unknown }> {
    const sel = parseFieldSelector(h.field);
    const path = `${tenantDir(tenant, environment)}/services/${h.service}/${sel.fileName}`;
    let data = this.parsed.get(path);
    if (!data) {
      data = this.read(path).then((text) => {
        try {
          return text === null ? null : parseYamlRecord(text);
        } catch {
          return null; // not YAML: no field in it can match a held value
        }
      });
      this.parsed.set(path, data);
    }
    const parsed = await data;
    return parsed ? lookup(parsed, sel.segments) : { exists: false, value: undefined };
  }

  async holds(tenant: string, environment: string, h: HeldField): Promise<boolean> {
    const found = await this.value(tenant, environment, h);
    return found.exists && sameValue(found.value, h.value);
  }
}

/** A file's content once `writes` are applied on `head` (the last write touching it wins, as in the commit). */
export async function fileAfterWrites(repo: ProjectRepository, head: string, writes: TreeWrite[], path: string): Promise<string | Buffer | null> {
  for (let i = writes.length - 1; i >= 0; i--) {
    const w = writes[i]!;
    if (w.type === "file") {
      if (w.path === path) return w.content;
      continue;
    }
    if (w.path !== path && !path.startsWith(`${w.path}/`)) continue;
    if (w.type === "delete") return null;
    return repo.readFile(w.revision, `${w.from ?? w.path}${path.slice(w.path.length)}`);
  }
  return repo.readFile(head, path);
}
