import "reflect-metadata";
process.env.TZ ??= "UTC";
import { createApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createLogger } from "./logger.js";
import { seedDemoIfEmpty } from "./seed/demo.js";
import { startServer } from "./server.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
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
  const server = await startServer(app);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, "shutting down: draining requests and subscriptions");
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, (config.shutdownGraceSeconds + 5) * 1000);
    force.unref();
    server.stop().then(
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
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
