import { badInput } from "../errors.js";
import { checkText } from "../services/input-rules.js";

/**
 * A required free-text argument (reasons, justifications): trimmed, not empty, bounded, without
 * control characters (single-line ones also without newlines, since they appear in one-line
 * messages and commit trailers). The characters and the length follow the shared input rules.
 */
export function requiredText(name: string, value: string | null | undefined, options: { max: number; multiline?: boolean; hint?: string }): string {
  const text = value?.trim() ?? "";
  if (text === "") throw badInput(`${name} is required${options.hint ? `: ${options.hint}` : ""}`);
  checkText(name, text, { max: options.max, multiline: options.multiline ?? false });
  return text;
}
