import { badInput } from "../errors.js";

// Unicode property escapes instead of literal ranges: Cc is every control character (C0, DEL, C1).
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_NEWLINES = /(?![\t\n\r])\p{Cc}/u;

/**
 * A required free-text argument (reasons, justifications): trimmed, not empty, bounded, without
 * control characters (single-line ones also without newlines, since they appear in one-line
 * messages and commit trailers).
 */
export function requiredText(name: string, value: string | null | undefined, options: { max: number; multiline?: boolean; hint?: string }): string {
  const text = value?.trim() ?? "";
  if (text === "") throw badInput(`${name} is required${options.hint ? `: ${options.hint}` : ""}`);
  if (text.length > options.max) throw badInput(`${name} must be at most ${options.max} characters, got ${text.length}`);
  if ((options.multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(text)) {
    throw badInput(`${name} must not contain control characters${options.multiline ? "" : " or line breaks"}`);
  }
  return text;
}
