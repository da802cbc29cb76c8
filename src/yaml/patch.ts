import { applyPatch, structuredPatch } from "diff";
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, type YAMLMap } from "yaml";
import { locate, keyString, meaningOf } from "./nodes.js";
import { planTextEdits } from "./text-edits.js";

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

/** Sets dotted fields to new values in YAML text (deployments), with the same byte-preserving rules. */
export function setYamlFields(source: string, assignments: { segments: string[]; value: unknown }[]): string {
  return patchYamlFields(
    source,
    assignments.map((a) => ({ segments: a.segments, target: { exists: true, value: a.value } })),
  );
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
