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
  return diffLeafMaps(flattenLeaves(before), flattenLeaves(after));
}

/** diffLeaves on values already flattened by flattenLeaves. */
export function diffLeafMaps(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): LeafChange[] {
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
 * every other byte stay.
 *
 * The meaning of the result comes from the yaml Document API (`editDocument`). The bytes come from
 * text edits on the original source (`planTextEdits`): scalars are spliced in place, a removed map
 * entry or list item loses exactly its own lines, an added one is inserted after its parent's last
 * entry in that parent's indentation, and a selected subtree is compared entry by entry. Those text
 * edits are kept only if they mean exactly what the Document means.
 *
 * The Document-and-line-patch path is only the fallback for what text edits do not cover (changing
 * a value's kind, adding to or removing from a flow collection): on hand-written files (odd
 * spacing, flow maps, indentless lists) a line patch's context rarely matches. Removals of list
 * items run from the highest index down, so `env.2, env.3` both name items of the head.
 */
export function patchYamlFields(source: string, edits: FieldEdit[], targetSource?: string): string {
  const target = targetSource === undefined ? null : parseDocument(targetSource);
  const doc = editDocument(source, edits, target);
  const wanted = JSON.stringify(doc.toJS());

  let planned: string | null = null;
  try {
    planned = planTextEdits(source, edits, target, targetSource ?? null, doc);
  } catch {
    planned = null; // e.g. a target node with an alias to an anchor elsewhere: the fallback handles it
  }
  if (planned !== null && meaningOf(planned) === wanted) return planned;

  // Fallback: carry only the lines the Document changed over to the original text.
  const before = parseDocument(source).toString({ lineWidth: 0 });
  const after = doc.toString({ lineWidth: 0 });
  // Try with one line of context, then none; keep a result only if it means exactly what `after` means.
  for (const context of [1, 0]) {
    const patch = structuredPatch("a", "b", before, after, "", "", { context });
    const applied = applyPatch(source, patch, { fuzzFactor: 0 });
    if (applied !== false && meaningOf(applied) === wanted) return applied;
  }
  return after;
}

function meaningOf(text: string): string | null {
  const doc = parseDocument(text);
  return doc.errors.length > 0 ? null : JSON.stringify(doc.toJS());
}

/** The edits applied with the Document API: what the patched file must mean. */
function editDocument(source: string, edits: FieldEdit[], target: Document | null): Document {
  const doc = parseDocument(source);
  // Sets first, in order; then removals, deepest path and highest list index first, so each
  // selector names what it named in the head.
  const removals = edits.filter((e) => !e.target.exists).sort((a, b) => comparePaths(b.segments, a.segments));
  for (const edit of edits.filter((e) => e.target.exists)) {
    const targetNode = target ? locate(target, edit.segments)?.node : null;
    const node = targetNode ? (targetNode as YamlNode).clone() : doc.createNode(edit.target.value);
    const at = locate(doc, edit.segments);
    if (at && isScalar(at.node) && isScalar(node) && typeof at.node.value === typeof node.value) {
      at.node.value = node.value;
    } else {
      setPath(doc, edit.segments, node);
    }
  }
  for (const edit of removals) {
    if (locate(doc, edit.segments)) {
      doc.deleteIn(edit.segments.map((s, i) => pathKey(doc, edit.segments.slice(0, i), s)));
      pruneEmptyParents(doc, edit.segments, target);
    }
  }
  return doc;
}

function comparePaths(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const na = /^\d+$/.test(a[i]!) ? Number(a[i]) : NaN;
    const nb = /^\d+$/.test(b[i]!) ? Number(b[i]) : NaN;
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

interface TextEdit {
  start: number;
  end: number;
  text: string;
  order: number;
  /** A whole entry written from the edited Document: edits inside it are already in its text. */
  rewrite: boolean;
}

interface TextPlan {
  source: string;
  head: Document;
  target: Document | null;
  targetSource: string | null;
  /** The Document with every edit applied (editDocument), for entries rewritten whole. */
  edited: Document;
  eol: string;
  edits: TextEdit[];
  /** Items already planned to be appended to a list, so the next append knows its index. */
  appended: Map<unknown, number>;
}

/** Byte-preserving text edits for `edits`, applied to `source`; null when one of them is not covered. */
function planTextEdits(source: string, edits: FieldEdit[], target: Document | null, targetSource: string | null, edited: Document): string | null {
  const head = parseDocument(source, { keepSourceTokens: true });
  if (head.errors.length > 0) return null;
  const plan: TextPlan = { source, head, target, targetSource, edited, eol: source.includes("\r\n") ? "\r\n" : "\n", edits: [], appended: new Map() };
  for (const edit of edits) if (!planEdit(plan, edit.segments, edit.target)) return null;
  // Overlapping selections ("image" and "image.tag"; "probes" and "probes.path") plan the same
  // splice twice or a removal inside a removal: keep one. Any other overlap is not covered.
  const ordered: TextEdit[] = [];
  for (const e of [...plan.edits].sort((a, b) => a.start - b.start || Number(a.end > a.start) - Number(b.end > b.start) || b.end - a.end || a.order - b.order)) {
    const prev = ordered[ordered.length - 1];
    if (prev && e.start < prev.end) {
      const same = e.start === prev.start && e.end === prev.end && e.text === prev.text;
      const removedWithin = prev.text === "" && e.text === "" && e.end <= prev.end;
      const rewrittenWithin = prev.rewrite && e.end <= prev.end;
      if (same || removedWithin || rewrittenWithin) continue;
      return null;
    }
    ordered.push(e);
  }
  // Apply from the end so offsets stay valid; at one offset, a removal goes before the insertions there.
  let out = source;
  for (const e of [...ordered].sort((a, b) => b.start - a.start || b.end - a.end || b.order - a.order)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

function push(plan: TextPlan, start: number, end: number, text: string, rewrite = false): true {
  plan.edits.push({ start, end, text, order: plan.edits.length, rewrite });
  return true;
}

function planEdit(plan: TextPlan, segments: string[], want: { exists: boolean; value: unknown }): boolean {
  const found = locate(plan.head, segments);
  let done: boolean;
  if (!want.exists) done = found ? planRemoval(plan, segments, found) : true;
  else if (!found) done = planInsertion(plan, segments, want.value);
  else done = planReplacement(plan, segments, found.node, want.value);
  return done || planRewrite(plan, segments);
}

/** The lines of a block collection's entry, when it starts a line of its own (after "- " for a list item). */
function entryLines(plan: TextPlan, parent: YamlNode, found: Located): { from: number; to: number; lead: string } | null {
  const { source } = plan;
  let start: number;
  let end: number | null;
  let leadPattern: RegExp;
  if (isMap(parent)) {
    const key = found.pair?.key as YamlNode | undefined;
    if (!found.pair || !key?.range) return null;
    start = key.range[0];
    end = endOfPair(found.pair);
    leadPattern = /^[ \t]*$/;
  } else {
    if (!found.node?.range) return null;
    start = found.node.range[0];
    end = found.node.range[2];
    leadPattern = /^[ \t]*-[ \t]+$/;
  }
  const from = lineStart(source, start);
  const lead = source.slice(from, start);
  const to = end === null ? null : lineEndFrom(source, end);
  return leadPattern.test(lead) && to !== null ? { from, to, lead } : null;
}

/**
 * What the other text edits do not cover (a value changing kind, an entry added to or removed from
 * a flow collection): rewrite the nearest enclosing entry of a block collection, on lines of its
 * own, from the edited Document. Only that entry's lines change.
 */
function planRewrite(plan: TextPlan, segments: string[]): boolean {
  for (let k = segments.length; k >= 1; k--) {
    const path = segments.slice(0, k);
    const found = locate(plan.head, path);
    if (!found) continue;
    const parent = k === 1 ? (plan.head.contents as YamlNode | null) : (locate(plan.head, path.slice(0, -1))?.node ?? null);
    if (!(isMap(parent) || isSeq(parent)) || (parent as YAMLMap).flow) continue;
    const lines = entryLines(plan, parent!, found);
    if (!lines) continue;
    const now = locate(plan.edited, path);
    if (!now) return push(plan, lines.from, lines.to, "", true);
    const node = now.node === null ? null : (now.node as YamlNode).clone();
    const pad = " ".repeat(lines.lead.length);
    const text = isMap(parent)
      ? nodeLines(node, path[k - 1]).map((l) => (l === "" ? l : pad + l))
      : nodeLines(node).map((l, i) => (i === 0 ? lines.lead + l : l === "" ? l : pad + l));
    return push(plan, lines.from, lines.to, text.join(plan.eol) + plan.eol, true);
  }
  return false;
}

function isRecordValue(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function planReplacement(plan: TextPlan, segments: string[], node: YamlNode | null, value: unknown): boolean {
  if (isScalar(node) && node.range) {
    const isScalarValue = value === null || ["string", "number", "boolean"].includes(typeof value);
    if (!isScalarValue) return false;
    if (sameValue(node.value, value)) return true;
    const targetNode = plan.target ? locate(plan.target, segments)?.node : null;
    const [start, end] = node.range;
    if (!isBlockScalar(node) && !isBlockScalar(targetNode)) {
      // `key:` with an empty value: keep a space between the colon and the new value.
      return push(plan, start, end, (start === end ? " " : "") + scalarSource(value, node));
    }
    if (isBlockScalar(node) && isBlockScalar(targetNode) && isScalar(targetNode) && targetNode.range && plan.targetSource !== null) {
      // A block scalar for a block scalar at the same indentation: the target's own text.
      const targetText = plan.targetSource ?? "";
      if (indentOf(plan.source, start) !== indentOf(targetText, targetNode.range[0])) return false;
      return push(plan, start, end, targetText.slice(targetNode.range[0], targetNode.range[1]));
    }
    return false;
  }
  if (isMap(node) && isRecordValue(value)) {
    const keys = (node as YAMLMap).items.map((p) => keyString(p.key));
    for (const key of keys) if (!planEdit(plan, [...segments, key], lookup(value, [key]))) return false;
    for (const key of Object.keys(value)) {
      if (!keys.includes(key) && !planEdit(plan, [...segments, key], { exists: true, value: value[key] })) return false;
    }
    return true;
  }
  if (isSeq(node) && Array.isArray(value)) {
    const count = (node as YAMLSeq).items.length;
    for (let i = count - 1; i >= 0; i--) {
      if (!planEdit(plan, [...segments, String(i)], i < value.length ? { exists: true, value: value[i] } : { exists: false, value: undefined })) return false;
    }
    for (let i = count; i < value.length; i++) if (!planEdit(plan, [...segments, String(i)], { exists: true, value: value[i] })) return false;
    return true;
  }
  return false;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

function indentOf(text: string, pos: number): number {
  const start = lineStart(text, pos);
  return /^[ \t]*/.exec(text.slice(start, pos))![0].length;
}

/** Offset just past the line that `end` falls in, if the rest of that line is blank or a comment. */
function lineEndFrom(text: string, end: number): number | null {
  if (end > 0 && text[end - 1] === "\n") return end;
  const nl = text.indexOf("\n", end);
  const rest = text.slice(end, nl < 0 ? text.length : nl);
  if (!/^[ \t\r]*(#.*)?$/.test(rest)) return null;
  return nl < 0 ? text.length : nl + 1;
}

function endOfPair(pair: Pair): number | null {
  const key = pair.key as YamlNode | null;
  const value = pair.value as YamlNode | null;
  if (!key?.range) return null;
  return Math.max(key.range[2], value?.range?.[2] ?? 0);
}

function planRemoval(plan: TextPlan, segments: string[], found: Located): boolean {
  const parentSegs = segments.slice(0, -1);
  const parent = parentSegs.length === 0 ? (plan.head.contents as YamlNode | null) : (locate(plan.head, parentSegs)?.node ?? null);
  if (!(isMap(parent) || isSeq(parent)) || (parent as YAMLMap).flow) return false;
  const items = (parent as YAMLMap | YAMLSeq).items;
  // Removing the only entry of a collection the target does not have removes the collection (as pruneEmptyParents does).
  if (items.length === 1 && parentSegs.length > 0 && !(plan.target && locate(plan.target, parentSegs))) {
    return planRemoval(plan, parentSegs, locate(plan.head, parentSegs)!);
  }
  let start: number;
  let end: number | null;
  if (isMap(parent)) {
    const key = found.pair?.key as YamlNode | undefined;
    if (!found.pair || !key?.range) return false;
    start = key.range[0];
    end = endOfPair(found.pair);
    if (!/^[ \t]*$/.test(plan.source.slice(lineStart(plan.source, start), start))) return false;
  } else {
    const item = found.node;
    if (!item?.range) return false;
    start = item.range[0];
    end = item.range[2];
    if (!/^[ \t]*-[ \t]+$/.test(plan.source.slice(lineStart(plan.source, start), start))) return false;
  }
  const to = end === null ? null : lineEndFrom(plan.source, end);
  if (to === null) return false;
  return push(plan, lineStart(plan.source, start), to, "");
}

/** YAML text of `node` on its own, lines split, without the final newline. */
function nodeLines(node: unknown, key?: string): string[] {
  const doc = new Document();
  if (key === undefined) {
    doc.contents = node as YamlNode;
  } else {
    const map = doc.createNode({}) as YAMLMap;
    map.set(doc.createNode(key), node);
    doc.contents = map;
  }
  return doc.toString({ lineWidth: 0 }).replace(/\n$/, "").split("\n");
}

function planInsertion(plan: TextPlan, segments: string[], value: unknown): boolean {
  const { source, eol } = plan;
  let depth = segments.length - 1;
  while (depth > 0 && !locate(plan.head, segments.slice(0, depth))) depth--;
  const key = segments[depth]!;
  const parent = depth === 0 ? (plan.head.contents as YamlNode | null) : locate(plan.head, segments.slice(0, depth))!.node;
  // What goes in at `key`: the target's node (its style and comments) or a new one.
  let node: unknown;
  const targetNode = plan.target ? locate(plan.target, segments)?.node : null;
  if (depth === segments.length - 1) {
    node = targetNode ? (targetNode as YamlNode).clone() : plan.head.createNode(value);
  } else {
    let nested: unknown = value;
    for (let i = segments.length - 1; i > depth; i--) nested = { [segments[i]!]: nested };
    node = plan.head.createNode(nested);
  }
  const ending = (at: number) => (at === source.length && source.length > 0 && !source.endsWith("\n") ? eol : "");

  if (parent === null && depth === 0 && meaningOf(source) === "null") {
    // An empty file (or only comments): the field becomes its first entry.
    const lines = nodeLines(node, key);
    return push(plan, source.length, source.length, ending(source.length) + lines.join(eol) + eol);
  }
  if (isMap(parent) && !(parent as YAMLMap).flow && (parent as YAMLMap).items.length > 0) {
    const items = (parent as YAMLMap).items;
    const first = items[0]!.key as YamlNode | null;
    const lastEnd = endOfPair(items[items.length - 1] as Pair);
    if (!first?.range || lastEnd === null) return false;
    const at = lineEndFrom(source, lastEnd);
    if (at === null) return false;
    // The column of the map's first key (after a list's "- " when the map is a list item).
    const pad = " ".repeat(first.range[0] - lineStart(source, first.range[0]));
    const lines = nodeLines(node, key).map((l) => (l === "" ? l : pad + l));
    return push(plan, at, at, ending(at) + lines.join(eol) + eol);
  }
  if (isSeq(parent) && !(parent as YAMLSeq).flow && depth === segments.length - 1 && /^\d+$/.test(key)) {
    const items = (parent as YAMLSeq).items;
    const planned = plan.appended.get(parent) ?? 0;
    if (Number(key) !== items.length + planned || items.length === 0) return false;
    const last = items[items.length - 1] as YamlNode | null;
    if (!last?.range) return false;
    const lead = source.slice(lineStart(source, last.range[0]), last.range[0]);
    if (!/^[ \t]*-[ \t]+$/.test(lead)) return false;
    const at = lineEndFrom(source, last.range[2]);
    if (at === null) return false;
    plan.appended.set(parent, planned + 1);
    const pad = " ".repeat(lead.length);
    const lines = nodeLines(node).map((l, i) => (i === 0 ? lead + l : l === "" ? l : pad + l));
    return push(plan, at, at, ending(at) + lines.join(eol) + eol);
  }
  return false;
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

