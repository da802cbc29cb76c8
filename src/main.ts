import "reflect-metadata";
process.env.TZ ??= "UTC";
import { createApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createLogger } from "./logger.js";
import { seedDemoIfEmpty } from "./seed/demo.js";
import { startServer, type RunningServer } from "./server.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);

  // Signals are handled from the first moment: a SIGTERM during start-up (an orchestrator giving
  // up, or arriving just as the server starts listening) stops the server once it is up, drained
  // like any other; without a handler the process would die mid-start.
  let server: RunningServer | null = null;
  let stopSignal: string | null = null;
  const drain = (running: RunningServer, signal: string) => {
    logger.info({ signal }, "shutting down: draining requests and subscriptions");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, (config.shutdownGraceSeconds + 5) * 1000);
    force.unref();
    running.stop().then(
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

  let app;
  try {
    app = await createApp(config, logger);
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, "cannot start: storage is not reachable");
    console.error(`cannot start: ${(err as Error).message.split("\n")[0]}`);
    process.exit(1);
  }
  if (config.seed === "demo") {
    const seeded = await seedDemoIfEmpty(app);
    if (seeded) {
      console.log(`\nDemo data seeded. Tokens (also in ${seeded.tokensFile}):`);
      for (const [email, token] of Object.entries(seeded.tokens)) console.log(`  ${email.padEnd(22)} ${token}`);
      console.log("");
    }
  }
  server = await startServer(app);
  if (stopSignal) drain(server, stopSignal);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
