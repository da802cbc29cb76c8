import { Document, isMap, isScalar, isSeq, Scalar, type Node as YamlNode, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { parseYaml } from "./values.js";

/** Finding and writing nodes of a yaml Document, for the patcher. */

export interface Located {
  node: YamlNode | null;
  pair?: Pair;
}

/** Finds the node at `segments`, matching map keys by their string form and list items by index. */
export function locate(doc: Document, segments: string[]): Located | null {
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

export function keyString(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

export function isBlockScalar(node: unknown): boolean {
  return isScalar(node) && (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL);
}

/** Source text for `value` written in the style of `like` (plain, single or double quoted). */
export function scalarSource(value: unknown, like: Scalar): string {
  const scalar = new Scalar(value);
  if (typeof value === typeof like.value) scalar.type = like.type;
  const doc = new Document(scalar);
  return doc.toString({ lineWidth: 0 }).replace(/\n$/, "");
}

/** YAML text of `node` on its own, lines split, without the final newline. */
export function nodeLines(node: unknown, key?: string): string[] {
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

export function meaningOf(text: string): string | null {
  const parsed = parseYaml(text);
  return parsed.error !== null ? null : JSON.stringify(parsed.value);
}
