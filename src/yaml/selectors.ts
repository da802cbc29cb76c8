/** Field selectors `[file:]dotted.path` (FIELD rollbacks, deployments' `set`), and their canonical text. */

/** `[file:]dotted.path` inside a service folder; file defaults to `values`. */
export interface FieldSelector {
  raw: string;
  /** File stem: values, bindings, variables, … */
  file: string;
  /** File name inside the service folder: values.yaml, … */
  fileName: string;
  segments: string[];
}

export class FieldSelectorError extends Error {}

const FILE_STEM = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Deeper paths are refused before any YAML is touched: the YAML library recurses once per level. */
export const MAX_FIELD_PATH_SEGMENTS = 32;

/** Why a field path is too deep, or null; counts dots only, so it is cheap on any input. */
export function fieldPathDepthError(raw: string): string | null {
  let segments = 1;
  for (let i = raw.indexOf("."); i >= 0; i = raw.indexOf(".", i + 1)) segments++;
  return segments > MAX_FIELD_PATH_SEGMENTS ? `a field path has at most ${MAX_FIELD_PATH_SEGMENTS} segments, got ${segments}` : null;
}

export function parseFieldSelector(raw: string): FieldSelector {
  const deep = fieldPathDepthError(raw);
  if (deep) throw new FieldSelectorError(`invalid field "${raw.slice(0, 60)}${raw.length > 60 ? "…" : ""}": ${deep}`);
  const text = raw.trim();
  const colon = text.indexOf(":");
  const file = colon >= 0 ? text.slice(0, colon).trim() : "values";
  const dotted = colon >= 0 ? text.slice(colon + 1).trim() : text;
  if (!FILE_STEM.test(file) || file.includes("..")) throw new FieldSelectorError(`invalid field "${raw}": unknown file "${file}"`);
  if (dotted === "") throw new FieldSelectorError(`invalid field "${raw}": the path is empty`);
  const segments = dotted.split(".");
  if (segments.some((s) => s === "")) throw new FieldSelectorError(`invalid field "${raw}": empty path segment`);
  const stem = file.replace(/\.ya?ml$/, "");
  return { raw: text, file: stem, fileName: `${stem}.yaml`, segments };
}

export function selectorOf(fileName: string, path: string): string {
  const stem = fileName.replace(/\.ya?ml$/, "");
  return stem === "values" ? path : `${stem}:${path}`;
}
