import { badInput } from "../errors.js";
import { fieldPathDepthError } from "../yaml/selectors.js";

/**
 * The rules every string a caller sends must meet, by class of argument. The GraphQL layer
 * applies them to every argument before a resolver runs (src/schema/argument-validation.ts);
 * services that take text from elsewhere (the CLI, the automation) call checkText themselves.
 */
export interface TextRule {
  max: number;
  /** Free text: newline and tab allowed (folded where the text lands in a one-line place); never other control characters. */
  multiline: boolean;
  /** Field paths: at most MAX_FIELD_PATH_SEGMENTS segments, checked before anything parses them. */
  fieldPath?: boolean;
}

export const TEXT_RULES = {
  /** Slugs, service names, shas, ids, cursors, health, selectors of subscriptions: one shared rule. */
  identifier: { max: 200, multiline: false },
  fieldPath: { max: 200, multiline: false, fieldPath: true },
  freeText: { max: 2000, multiline: true },
  note: { max: 10_000, multiline: true },
  url: { max: 2048, multiline: false },
  secret: { max: 256, multiline: false },
  /** String values of deploy's `set`: they land in the commit message's subject and in YAML. */
  setValue: { max: 2000, multiline: false },
  /** String values of other JSON arguments (drift reports: a ConfigMap's value may span lines). */
  jsonValue: { max: 10_000, multiline: true },
} as const satisfies Record<string, TextRule>;

/** Nesting depth of JSON arguments (objects and arrays), checked before a YAML library sees them. */
export const MAX_JSON_DEPTH = 32;

/** Argument names of each class; any other string argument is an identifier. */
const CLASS_OF: Record<string, TextRule> = {
  justification: TEXT_RULES.freeText,
  holdOverrideJustification: TEXT_RULES.freeText,
  releaseJustification: TEXT_RULES.freeText,
  summary: TEXT_RULES.freeText,
  comment: TEXT_RULES.freeText,
  reason: TEXT_RULES.freeText,
  description: TEXT_RULES.freeText,
  text: TEXT_RULES.note,
  url: TEXT_RULES.url,
  secret: TEXT_RULES.secret,
  fields: TEXT_RULES.fieldPath,
  field: TEXT_RULES.fieldPath,
};

/** JSON arguments whose keys are field paths and whose values end up in commit messages and YAML. */
const FIELD_PATH_KEYED = new Set(["set"]);

export function ruleFor(argumentName: string): TextRule {
  return CLASS_OF[argumentName] ?? TEXT_RULES.identifier;
}

// Unicode property escapes instead of literal ranges: Cc is every control character (C0, DEL, C1).
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_NEWLINES = /(?![\t\n\r])\p{Cc}/u;

/** BAD_USER_INPUT naming `path` (e.g. input.justification) when `value` breaks `rule`. */
export function checkText(path: string, value: string, rule: TextRule): void {
  if (rule.fieldPath) {
    const deep = fieldPathDepthError(value);
    if (deep) throw badInput(`${path}: ${deep}`);
  }
  if (value.length > rule.max) throw badInput(`${path} must be at most ${rule.max} characters, got ${value.length}`);
  if ((rule.multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(value)) {
    throw badInput(`${path} must not contain control characters${rule.multiline ? "" : " or line breaks"}`);
  }
}

/**
 * A JSON argument: nesting bounded, every key and string value checked. Keys of `set` are field
 * paths and its values single-line; other keys are identifiers.
 */
export function checkJson(path: string, value: unknown, argumentName: string): void {
  const keyed = FIELD_PATH_KEYED.has(argumentName);
  const keyRule = keyed ? TEXT_RULES.fieldPath : TEXT_RULES.identifier;
  const valueRule = keyed ? TEXT_RULES.setValue : TEXT_RULES.jsonValue;
  const walk = (at: string, v: unknown, depth: number): void => {
    if (typeof v === "string") return checkText(at, v, valueRule);
    if (v === null || typeof v !== "object") return;
    if (depth >= MAX_JSON_DEPTH) throw badInput(`${path} is nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(`${at}[${i}]`, item, depth + 1));
      return;
    }
    for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
      const keyPath = `${at}[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
      checkText(`${at} key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}`, key, keyRule);
      walk(keyPath, item, depth + 1);
    }
  };
  walk(path, value, 0);
}
