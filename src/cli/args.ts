import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in how a command was called: reported in one line, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>;

/**
 * node:util's parseArgs, strict, with its errors (a stack trace and a paragraph by default)
 * turned into one line that names the option and suggests the one that was probably meant.
 */
export function parseOptions<O extends Options>(argv: string[], options: O, command: string): Parsed<O>["values"] {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Parsed<O>["values"];
  } catch (err) {
    throw new UsageError(describe(err, options, command));
  }
}

function describe(err: unknown, options: Options, command: string): string {
  const e = err as { code?: string; message?: string };
  const token = /'([^']+)'/.exec(e.message ?? "")?.[1] ?? "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const name = token.replace(/^-+/, "").split("=")[0]!;
      const guess = closest(name, Object.keys(options));
      return `unknown option ${token.startsWith("--") ? `--${name}` : token} for ${command}${guess ? ` (did you mean --${guess}?)` : ""}`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const name = /--([\w-]+)/.exec(e.message ?? "")?.[1];
      const option = name ? options[name] : undefined;
      return option?.type === "boolean" ? `--${name} takes no value` : `--${name ?? token} needs a value`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${token}" for ${command}`;
    default:
      return (e.message ?? String(err)).split("\n")[0]!;
  }
}

/** The known name at edit distance 2 or less, if there is one. */
function closest(name: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
