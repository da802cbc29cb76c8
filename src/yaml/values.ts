import { LRUCache } from "lru-cache";
import { parseDocument } from "yaml";

/** YAML as plain data: parsing to records, reading a path, comparing values and flattening them to leaves. */

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a YAML text means: its first error, or its plain data. */
interface Parsed {
  error: string | null;
  value: unknown;
}

/**
 * Parsed texts by content. One rollback or deploy reads the same file version several times
 * (plan, patch check, render, change list, holds), and the file a deploy wrote is the one the
 * next change starts from; parsing is by far the costliest part of each read. Bounded by text size.
 */
const parsedTexts = new LRUCache<string, Parsed>({ maxSize: 16 * 1024 * 1024, sizeCalculation: (_, text) => text.length + 64 });

/** Parses YAML text with the yaml package's defaults (a cached answer for a text seen before). Callers must not change `value`. */
export function parseYaml(text: string): Parsed {
  let parsed = parsedTexts.get(text);
  if (!parsed) {
    const doc = parseDocument(text);
    parsed = doc.errors.length > 0 ? { error: doc.errors[0]!.message, value: null } : { error: null, value: doc.toJS() as unknown };
    parsedTexts.set(text, parsed);
  }
  return parsed;
}

/** Parses YAML text to plain data; an empty or non-map document is an empty map. Each call gets its own copy. */
export function parseYamlRecord(text: string | Buffer | null | undefined): Record<string, unknown> {
  if (text === null || text === undefined) return {};
  const parsed = parseYaml(text.toString());
  if (parsed.error !== null) throw new Error(parsed.error);
  return isRecord(parsed.value) ? structuredClone(parsed.value) : {};
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

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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

/** Field-by-field difference between two values flattened by flattenLeaves, in document order. */
export function diffLeafMaps(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): LeafChange[] {
  const out: LeafChange[] = [];
  for (const [path, av] of a) {
    if (!b.has(path)) out.push({ path, kind: "REMOVED", before: av, after: null });
    else if (!sameValue(av, b.get(path))) out.push({ path, kind: "MODIFIED", before: av, after: b.get(path) });
  }
  for (const [path, bv] of b) if (!a.has(path)) out.push({ path, kind: "ADDED", before: null, after: bv });
  return out;
}
