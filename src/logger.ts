import pino, { type Logger } from "pino";
import type { Config } from "./config.js";

/** Structured JSON logs on stdout (one object per line), as log collectors expect. */
export function createLogger(level: Config["logLevel"] = "info"): Logger {
  return pino({
    level,
    base: { service: "rollback-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
  });
}
