import { isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { isBlockScalar, keyString, locate, meaningOf, nodeLines, scalarSource, type Located } from "./nodes.js";
import type { FieldEdit } from "./patch.js";
import { isRecord, lookup, sameValue } from "./values.js";

/**
 * The byte-preserving half of the patcher: edits planned on the source text itself (scalars spliced
 * in place, an entry's own lines removed or added in its parent's indentation). patch.ts keeps a
 * plan only if the result means exactly what the edited Document means.
 */

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
export function planTextEdits(source: string, edits: FieldEdit[], target: Document | null, targetSource: string | null, edited: Document): string | null {
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
  if (isMap(node) && isRecord(value)) {
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

function planRemoval(plan: TextPlan, segments: string[], found: Located): boolean {
  const parentSegs = segments.slice(0, -1);
  const parent = parentSegs.length === 0 ? (plan.head.contents as YamlNode | null) : (locate(plan.head, parentSegs)?.node ?? null);
  if (!(isMap(parent) || isSeq(parent)) || (parent as YAMLMap).flow) return false;
  const items = (parent as YAMLMap | YAMLSeq).items;
  // Removing the only entry of a collection the target does not have removes the collection (as pruneEmptyParents does).
  if (items.length === 1 && parentSegs.length > 0 && !(plan.target && locate(plan.target, parentSegs))) {
    return planRemoval(plan, parentSegs, locate(plan.head, parentSegs)!);
  }
  const lines = entryLines(plan, parent!, found);
  return lines !== null && push(plan, lines.from, lines.to, "");
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
