import pino, { type DestinationStream, type Logger } from "pino";
import type { Config } from "./config.js";
import { currentRequest } from "./observability/request-context.js";

/**
 * Structured JSON logs (one object per line), as log collectors expect: on stdout for the
 * server, on stderr for the CLI (whose stdout is the command's output). A line written while a
 * request is handled carries that request's id.
 */
export function createLogger(level: Config["logLevel"] = "info", destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "rollback-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
    mixin: () => {
      const request = currentRequest();
      return request ? { requestId: request.requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
