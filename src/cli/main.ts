import "reflect-metadata";
process.env.TZ ??= "UTC";
import { existsSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { createApp, type App } from "../app.js";
import { loadConfigOrExit, type Config } from "../config.js";
import { AppError } from "../errors.js";
import { createLogger } from "../logger.js";
import { VERSION } from "../version.js";
import { parseOptions, UsageError } from "./args.js";
import { COMMANDS, type Command } from "./commands.js";

const PROGRAM = "rollback-cli";

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `${PROGRAM} ${VERSION}: operator commands on the server's DATA_DIR / DATABASE_URL (watch talks to a running server)

usage: ${PROGRAM} <command> [options]     (npm run --silent cli -- <command> [options])

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`).join("\n")}

  ${PROGRAM} <command> --help   that command's options
  ${PROGRAM} --version          the version
`;
}

function commandUsage(command: Command): string {
  return `${PROGRAM} ${command.name}: ${command.summary}

usage: ${PROGRAM} ${command.name} ${command.usage}
`;
}

/** The command named by the leading words of argv (two words, else one), and the arguments after them. */
function findCommand(argv: string[]): { command: Command | null; words: string[]; rest: string[] } {
  let n = 0;
  while (n < argv.length && n < 2 && !argv[n]!.startsWith("-")) n++;
  for (let take = n; take > 0; take--) {
    const name = argv.slice(0, take).join(" ");
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, words: argv.slice(0, take), rest: argv.slice(take) };
  }
  return { command: null, words: argv.slice(0, n), rest: argv.slice(n) };
}

/** The SQLite file the configuration points at; null for PostgreSQL (its database always exists). */
function sqliteFile(config: Config): string | null {
  if (!config.databaseUrl) return path.join(config.dataDir, "rollback.sqlite");
  if (/^postgres(ql)?:/.test(config.databaseUrl)) return null;
  return path.resolve(config.databaseUrl.replace(/^(sqlite|file):(\/\/)?/, ""));
}

async function main(argv: string[]): Promise<number> {
  const { command, words, rest } = findCommand(argv);
  if (!command) {
    if (words.length === 0 && (rest.includes("--version") || rest.includes("-V"))) {
      console.log(`${PROGRAM} ${VERSION}`);
      return 0;
    }
    if (words.length === 0 && (rest.includes("--help") || rest.includes("-h"))) {
      console.log(usage());
      return 0;
    }
    if (words.length === 0 && rest.length === 0) {
      console.error(usage());
      return 2;
    }
    const matching = COMMANDS.filter((c) => c.name.startsWith(`${words.join(" ")} `));
    if (matching.length > 0 && (rest.includes("--help") || rest.includes("-h") || words.length === 1)) {
      console.error(`${words.join(" ")}: ${matching.map((c) => `${PROGRAM} ${c.name}`).join(", ")}`);
      return rest.includes("--help") || rest.includes("-h") ? 0 : 2;
    }
    throw new UsageError(words.length ? `unknown command "${words.join(" ")}"` : `unknown option ${rest[0]}`);
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(commandUsage(command));
    return 0;
  }
  const values = parseOptions(rest, command.options, command.name) as Record<string, string | boolean | undefined>; // no option is "multiple"
  const work = command.prepare(values);
  if (command.storage === "none") return (work as () => Promise<number>)(); // needs no app

  const config = loadConfigOrExit();
  const file = sqliteFile(config);
  if (command.storage === "existing" && file && !existsSync(file)) {
    console.error(
      `${command.nothingThere ?? "nothing to do"}: there is no database at ${file} (DATA_DIR=${config.dataDir}); start the server once, or run \`${PROGRAM} seed demo\``,
    );
    return 1;
  }
  // Logs go to stderr: stdout is the command's output (a token, a report).
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel, pino.destination(2));
  let app: App;
  try {
    app = await createApp(config, logger);
  } catch (err) {
    console.error(`error: cannot open the storage: ${firstLine(err)}`);
    return 1;
  }
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split("\n")[0]!;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      const { command } = findCommand(process.argv.slice(2));
      console.error(`error: ${err.message} (${PROGRAM} ${command ? `${command.name} ` : ""}--help)`);
      process.exit(2);
    }
    // A refusal from the services (unknown project, invalid email, …): its message is meant for the operator.
    console.error(`error: ${firstLine(err)}`);
    process.exit(err instanceof AppError && err.code === "BAD_USER_INPUT" ? 2 : 1);
  },
);
