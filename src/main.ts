import "reflect-metadata";
process.env.TZ ??= "UTC";
import { parseOptions, UsageError } from "./cli/args.js";
import { createApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createLogger } from "./logger.js";
import { startTracing, type Tracing } from "./observability/tracing.js";
import { lostDatabaseMessage, repositoriesWithoutDatabase } from "./seed/data-dir.js";
import { seedDemoIfEmpty } from "./seed/demo.js";
import { startServer, type RunningServer } from "./server.js";
import { VERSION } from "./version.js";

const USAGE = `rollback-server ${VERSION}: the GraphQL API, the graphql-ws endpoint, the Git endpoint, /metrics and the probes, on one port

usage: rollback-server        (npm start builds first; npm run serve runs the build)

Configured by environment variables (PORT, HOST, DATA_DIR, DATABASE_URL, CORS_ORIGINS,
METRICS_TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT, ...): see the README's Configuration section.
`;

/** The server takes no arguments besides --help and --version: everything else is configuration. */
function handleArguments(argv: string[]): void {
  try {
    const values = parseOptions(argv, { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "V" } }, "rollback-server");
    if (values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (values.version) {
      process.stdout.write(`rollback-server ${VERSION}\n`);
      process.exit(0);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message} (the server is configured by environment variables; rollback-server --help)`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  handleArguments(process.argv.slice(2));
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  let tracing: Tracing | null = null;

  // Signals are handled from the first moment: a SIGTERM during start-up (an orchestrator giving
  // up, or arriving just as the server starts listening) stops the server once it is up, drained
  // like any other; without a handler the process would die mid-start.
  let server: RunningServer | null = null;
  let stopSignal: string | null = null;
  const drain = (running: RunningServer, signal: string) => {
    logger.info({ signal }, "shutting down: draining requests and subscriptions");
    const force = setTimeout(
      () => {
        logger.error("shutdown took too long; exiting");
        process.exit(1);
      },
      (config.shutdownGraceSeconds + 5) * 1000,
    );
    force.unref();
    running
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => {
          logger.info("stopped");
          process.exit(0);
        },
        (err) => {
          logger.error({ err }, "error while stopping");
          process.exit(1);
        },
      );
  };
  const shutdown = (signal: string) => {
    if (stopSignal) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopSignal = signal;
    if (server) drain(server, signal);
    else logger.info({ signal }, "shutdown requested while starting: stopping once started");
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  // Before the app: the Git and database wrappers are installed only when tracing is on.
  tracing = await startTracing({ tracesUrl: config.otelTracesUrl, logger });
  let app;
  try {
    app = await createApp(config, logger);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, "cannot start: storage is not reachable");
    console.error(`cannot start: ${(err as Error).message.split("\n")[0]}`);
    process.exit(1);
  }
  const orphaned = await repositoriesWithoutDatabase(app);
  if (orphaned.length > 0) {
    logger.fatal({ repositories: orphaned }, "cannot start: repositories without their database");
    console.error(lostDatabaseMessage(orphaned));
    await app.close();
    process.exit(1);
  }
  if (config.seed === "demo") {
    const seeded = await seedDemoIfEmpty(app);
    if (seeded) {
      // For the person at the terminal, as plain text on stderr: stdout is the JSON log stream.
      const lines = Object.entries(seeded.tokens).map(([email, token]) => `  ${email.padEnd(22)} ${token}`);
      process.stderr.write(`\nDemo data seeded. Tokens (also in ${seeded.tokensFile}):\n${lines.join("\n")}\n\n`);
    }
  }
  server = await startServer(app);
  if (stopSignal) drain(server, stopSignal);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
