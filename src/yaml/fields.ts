import { applyPatch, structuredPatch } from "diff";
import { Document, isMap, isScalar, isSeq, parseDocument, Scalar, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from "yaml";

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

export function parseFieldSelector(raw: string): FieldSelector {
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Leaves of a parsed YAML value by dotted path; empty maps and lists count as leaves. */
export function flattenLeaves(value: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0 && prefix) out.set(prefix, []);
    value.forEach((item, i) => flattenLeaves(item, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix) out.set(prefix, {});
    for (const k of keys) flattenLeaves(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value ?? null);
  }
  return out;
}

export interface LeafChange {
  path: string;
  kind: "ADDED" | "REMOVED" | "MODIFIED";
  before: unknown;
  after: unknown;
}

/** Field-by-field difference between two parsed YAML values, in document order. */
export function diffLeaves(before: unknown, after: unknown): LeafChange[] {
  const a = flattenLeaves(before);
  const b = flattenLeaves(after);
  const out: LeafChange[] = [];
  for (const [path, av] of a) {
    if (!b.has(path)) out.push({ path, kind: "REMOVED", before: av, after: null });
    else if (!sameValue(av, b.get(path))) out.push({ path, kind: "MODIFIED", before: av, after: b.get(path) });
  }
  for (const [path, bv] of b) if (!a.has(path)) out.push({ path, kind: "ADDED", before: null, after: bv });
  return out;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Parses YAML text to plain data; an empty or non-map document is an empty map. */
export function parseYamlRecord(text: string | Buffer | null | undefined): Record<string, unknown> {
  if (text === null || text === undefined) return {};
  const doc = parseDocument(text.toString());
  if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message);
  const value = doc.toJS() as unknown;
  return isRecord(value) ? value : {};
}

/** What a path holds in a parsed value: whether it exists and its value. */
export function lookup(value: unknown, segments: string[]): { exists: boolean; value: unknown } {
  let current: unknown = value;
  for (const seg of segments) {
    if (Array.isArray(current)) {
      const idx = /^\d+$/.test(seg) ? Number(seg) : -1;
      if (idx < 0 || idx >= current.length) return { exists: false, value: undefined };
      current = current[idx];
    } else if (isRecord(current)) {
      if (!Object.prototype.hasOwnProperty.call(current, seg)) return { exists: false, value: undefined };
      current = current[seg];
    } else {
      return { exists: false, value: undefined };
    }
  }
  return { exists: true, value: current };
}

interface Located {
  node: YamlNode | null;
  pair?: Pair;
}

/** Finds the node at `segments`, matching map keys by their string form and list items by index. */
function locate(doc: Document, segments: string[]): Located | null {
  let current: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const seg of segments) {
    if (isMap(current)) {
      const found = (current as YAMLMap).items.find((p) => keyString(p.key) === seg);
      if (!found) return null;
      pair = found as Pair;
      current = found.value;
    } else if (isSeq(current)) {
      const idx = /^\d+$/.test(seg) ? Number(seg) : -1;
      const items = (current as YAMLSeq).items;
      if (idx < 0 || idx >= items.length) return null;
      pair = undefined;
      current = items[idx];
    } else {
      return null;
    }
  }
  return { node: (current ?? null) as YamlNode | null, pair };
}

function keyString(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function isBlockScalar(node: unknown): boolean {
  return isScalar(node) && (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL);
}

/** Source text for `value` written in the style of `like` (plain, single or double quoted). */
function scalarSource(value: unknown, like: Scalar): string {
  const scalar = new Scalar(value);
  if (typeof value === typeof like.value) scalar.type = like.type;
  const doc = new Document(scalar);
  return doc.toString({ lineWidth: 0 }).replace(/\n$/, "");
}

export interface FieldEdit {
  segments: string[];
  /** The field's value at the target; `exists: false` removes it. */
  target: { exists: boolean; value: unknown };
}

/**
 * Applies field edits to YAML text, changing only those fields: comments, key order, quoting and
 * every other byte stay. Scalar-for-scalar edits splice the scalar's own characters; structural
 * edits (adding, removing, replacing a subtree) go through the yaml Document API, and only the lines
 * that Document changed are carried over to the original text.
 */
export function patchYamlFields(source: string, edits: FieldEdit[], targetSource?: string): string {
  const head = parseDocument(source, { keepSourceTokens: true });
  const target = targetSource === undefined ? null : parseDocument(targetSource);
  const splices: { start: number; end: number; text: string }[] = [];
  let structural = false;

  for (const edit of edits) {
    const found = locate(head, edit.segments);
    if (edit.target.exists && found && isScalar(found.node) && found.node.range && !isBlockScalar(found.node)) {
      const targetNode = target ? locate(target, edit.segments)?.node : null;
      const value = edit.target.value;
      const isScalarValue = value === null || ["string", "number", "boolean"].includes(typeof value);
      if (isScalarValue && !isBlockScalar(targetNode)) {
        if (sameValue(found.node.value, value)) continue;
        const [start, end] = found.node.range;
        splices.push({ start, end, text: scalarSource(value, found.node) });
        continue;
      }
    }
    structural = true;
  }

  if (!structural) {
    let out = source;
    for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end);
    return out;
  }

  // Structural: edit a Document, then carry only the lines it changed over to the original text.
  const before = parseDocument(source).toString({ lineWidth: 0 });
  const doc = parseDocument(source);
  for (const edit of edits) {
    if (edit.target.exists) {
      const targetNode = target ? locate(target, edit.segments)?.node : null;
      const node = targetNode ? (targetNode as YamlNode).clone() : doc.createNode(edit.target.value);
      const at = locate(doc, edit.segments);
      if (at && isScalar(at.node) && isScalar(node) && typeof at.node.value === typeof node.value) {
        at.node.value = node.value;
      } else {
        setPath(doc, edit.segments, node);
      }
    } else if (locate(doc, edit.segments)) {
      doc.deleteIn(edit.segments.map((s, i) => pathKey(doc, edit.segments.slice(0, i), s)));
      pruneEmptyParents(doc, edit.segments, target);
    }
  }
  const after = doc.toString({ lineWidth: 0 });
  const wanted = JSON.stringify(doc.toJS());
  // Try with one line of context, then none; keep a result only if it means exactly what `after` means.
  for (const context of [1, 0]) {
    const patch = structuredPatch("a", "b", before, after, "", "", { context });
    const applied = applyPatch(source, patch, { fuzzFactor: 0 });
    if (applied !== false && JSON.stringify(parseDocument(applied).toJS()) === wanted) return applied;
  }
  return after;
}

/** The key to use for `seg` under the collection at `parent`: list indexes are numbers. */
function pathKey(doc: Document, parent: string[], seg: string): string | number {
  const at = parent.length === 0 ? { node: doc.contents as YamlNode | null } : locate(doc, parent);
  if (at && isSeq(at.node) && /^\d+$/.test(seg)) return Number(seg);
  if (at && isMap(at.node)) {
    const pair = (at.node as YAMLMap).items.find((p) => keyString(p.key) === seg);
    if (pair && isScalar(pair.key)) return pair.key.value as string;
  }
  return seg;
}

function setPath(doc: Document, segments: string[], node: unknown): void {
  const keys = segments.map((s, i) => pathKey(doc, segments.slice(0, i), s));
  doc.setIn(keys, node);
}

/** After removing a field, drop parents it leaves empty when they did not exist at the target either. */
function pruneEmptyParents(doc: Document, segments: string[], target: Document | null): void {
  for (let depth = segments.length - 1; depth >= 1; depth--) {
    const parent = segments.slice(0, depth);
    const at = locate(doc, parent);
    const empty = at && (isMap(at.node) || isSeq(at.node)) && (at.node as YAMLMap).items.length === 0;
    const atTarget = target ? locate(target, parent) : null;
    if (!empty || atTarget) return;
    doc.deleteIn(parent.map((s, i) => pathKey(doc, parent.slice(0, i), s)));
  }
}

/** True when the node at `segments` in YAML text exists (for validating field selections). */
export function hasField(text: string | Buffer | null, segments: string[]): boolean {
  if (text === null) return false;
  return lookup(parseYamlRecord(text), segments).exists;
}

/** Sets dotted fields to new values in YAML text (deployments), with the same byte-preserving rules. */
export function setYamlFields(source: string, assignments: { segments: string[]; value: unknown }[]): string {
  return patchYamlFields(
    source,
    assignments.map((a) => ({ segments: a.segments, target: { exists: true, value: a.value } })),
  );
}

