import type { Deployment } from "../../entities/deployment.js";
import { DeploymentStatus, RollbackMode } from "../../entities/enums.js";
import { ownedBy, renderedFile, serviceDir } from "../git/layout.js";
import { parseFieldSelector, type FieldSelector } from "../yaml/selectors.js";

/** What a rollback restored: everything (FULL), one service, or some of its fields. */
export interface RollbackScope {
  mode: RollbackMode;
  service: string | null;
  selectedFields: string[];
}

/** Whether a field (file name and dotted path inside a service) is one of the selected fields or inside one of them. */
export function selectionCovers(selected: FieldSelector[], file: string, path: string): boolean {
  return selected.some((s) => s.fileName === file && (path === s.segments.join(".") || path.startsWith(`${s.segments.join(".")}.`)));
}

/**
 * Which of the deployments made after the target a rollback fully undid, so they become
 * ROLLED_BACK (for the executor when it records a rollback, and for reindex when it replays one): all of them for FULL; for SERVICE those that only touched that service; for FIELD
 * those whose every field change is one of (or inside) the selected fields, their rendered
 * manifest aside. A deployment that also changed something the rollback kept stays as it was.
 */
export function rolledBackBy(newer: Deployment[], scope: RollbackScope): Deployment[] {
  const candidates = newer.filter((d) => d.status !== DeploymentStatus.ROLLED_BACK);
  if (scope.mode === RollbackMode.FULL) return candidates;
  const svc = scope.service!;
  const rendered = renderedFile(svc);
  if (scope.mode === RollbackMode.SERVICE) {
    return candidates.filter((d) => d.files.length > 0 && d.files.every((f) => ownedBy(f, svc)));
  }
  const selected = scope.selectedFields.map((f) => parseFieldSelector(f));
  const files = new Set(selected.map((s) => `${serviceDir(svc)}/${s.fileName}`));
  return candidates.filter(
    (d) =>
      d.files.length > 0 &&
      d.files.every((f) => files.has(f) || f === rendered) &&
      d.changes.length > 0 &&
      d.changes.every((c) => c.service === svc && selectionCovers(selected, c.file, c.path)),
  );
}
