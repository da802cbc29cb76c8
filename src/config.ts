import path from "node:path";
import type { GitHttpLimits } from "./http/git-http.js";
import type { QueryLimits } from "./http/query-limits.js";
import type { DeliverySettings } from "./notifications/dispatcher.js";

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Unset means the embedded SQLite file DATA_DIR/rollback.sqlite. */
  databaseUrl: string | null;
  seed: "demo" | "none";
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Upper bound for a break-glass session's duration, in minutes. */
  breakGlassMaxMinutes: number;
  /** Seconds without a sync report after which an agent shows UNREACHABLE. */
  agentUnreachableAfterSeconds: number;
  /** At most this many `git http-backend` processes serve clones and fetches at once; more requests wait their turn. */
  gitHttpMaxProcesses: number;
  /** How the Git endpoint shares those processes and reads request bodies (GIT_HTTP_*). */
  gitHttp: GitHttpLimits;
  /** At most this many GraphQL operations over HTTP execute at once; more wait their turn (src/http/admission.ts). */
  graphqlMaxConcurrent: number;
  /** How long an operation waits for one of those slots before a 503 (src/http/admission.ts). */
  graphqlQueueWaitSeconds: number;
  /** A query document is compiled (graphql-jit) on this execution; 0: never (src/schema/compiled-execution.ts). */
  graphqlCompileAfter: number;
  /** Unset: in-process pub/sub. */
  redisUrl: string | null;
  /** URL template with {project}; unset: the local bare repositories are the source of truth. */
  gitRemote: string | null;
  /** Seconds a graceful shutdown waits for in-flight work before it closes anyway. */
  shutdownGraceSeconds: number;
  /** Seconds between graphql-ws keep-alive pings. */
  keepAliveSeconds: number;
  /** Seconds between reconciliations of interrupted executions (scale-out crash recovery). */
  reconcileIntervalSeconds: number;
  /** PostgreSQL schema to use instead of public (tests give each run its own). */
  pgSchema: string | null;
  /** Whether the schema answers introspection (the explorer's docs and completion need it); default off when NODE_ENV=production. */
  introspection: boolean;
  /** Test hook: pause every rollback execution at this point, to kill a server mid-execution. */
  executionPause: { at: "before-commit" | "after-commit"; ms: number } | null;
  /** The server's URL as clients and receivers reach it (links, repository URLs in webhooks); unset: the address it listens on. */
  publicUrl: string | null;
  webhooks: WebhookConfig;
  /** Exact origins (scheme://host[:port]) whose pages may call /graphql; empty: same-origin only. */
  corsOrigins: string[];
  /** Bearer token /metrics requires; null: /metrics is open (protect it at the network level). */
  metricsToken: string | null;
  /** Bounds every GraphQL operation must fit before it runs (depth, aliases, directives, tokens, estimated cost). */
  queryLimits: QueryLimits;
  /** Largest GraphQL request body (HTTP) or WebSocket message, in bytes. */
  maxBodyBytes: number;
  /** Where OTLP/HTTP traces go (from OTEL_EXPORTER_OTLP_ENDPOINT); null: tracing is off and the SDK is not loaded. */
  otelTracesUrl: string | null;
}

/** Outbound webhook delivery (src/notifications/). */
export interface WebhookConfig extends DeliverySettings {
  /** 32-byte key that encrypts webhook secrets at rest; null: DATA_DIR/webhook-secret.key, created on first use. */
  secretKey: Buffer | null;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readUrl(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.map((p) => p.replace(/:$/, "://")).join(" or ")}, got "${url.protocol}"`);
  }
  return raw;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** loadConfig for a process entry point: an invalid value ends the process with one line naming it. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`configuration error: ${err.message}`);
    process.exit(2);
  }
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const host = (env.HOST ?? "127.0.0.1").trim();
  if (host === "" || /\s/.test(host)) throw new ConfigError("HOST", `must be a host name or address, got "${env.HOST}"`);

  const dataDirRaw = (env.DATA_DIR ?? "./data").trim();
  if (dataDirRaw === "") throw new ConfigError("DATA_DIR", "must not be empty");

  const seed = (env.SEED ?? "demo").trim();
  if (seed !== "demo" && seed !== "none") throw new ConfigError("SEED", `must be "demo" or "none", got "${seed}"`);

  const logLevel = (env.LOG_LEVEL ?? "info").trim();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }

  const gitRemote = env.GIT_REMOTE?.trim() || null;
  if (gitRemote !== null && !gitRemote.includes("{project}")) {
    throw new ConfigError("GIT_REMOTE", `must contain {project}, got "${gitRemote}"`);
  }
  if (gitRemote !== null) readUrl({ GIT_REMOTE: gitRemote.replaceAll("{project}", "p") }, "GIT_REMOTE", ["file:", "http:", "https:", "ssh:"]);

  return {
    port: readInt(env, "PORT", 4000, 0, 65535),
    host,
    dataDir: path.resolve(cwd, dataDirRaw),
    databaseUrl: readUrl(env, "DATABASE_URL", ["postgres:", "postgresql:", "sqlite:", "file:"]),
    seed,
    logLevel: logLevel as Config["logLevel"],
    breakGlassMaxMinutes: readInt(env, "BREAK_GLASS_MAX_MINUTES", 60, 1, 24 * 60),
    agentUnreachableAfterSeconds: readInt(env, "AGENT_UNREACHABLE_AFTER", 300, 1, 7 * 24 * 3600),
    gitHttpMaxProcesses: readInt(env, "GIT_HTTP_MAX_PROCESSES", 8, 1, 1024),
    gitHttp: {
      orgSharePercent: readInt(env, "GIT_HTTP_ORG_SHARE_PERCENT", 50, 1, 100),
      queueWaitSeconds: readInt(env, "GIT_HTTP_QUEUE_WAIT_SECONDS", 20, 1, 600),
      bodyTimeoutSeconds: readInt(env, "GIT_HTTP_BODY_TIMEOUT_SECONDS", 30, 1, 3600),
      maxBodyBytes: readInt(env, "GIT_HTTP_MAX_BODY_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    },
    graphqlMaxConcurrent: readInt(env, "GRAPHQL_MAX_CONCURRENT", 8, 1, 10_000),
    graphqlQueueWaitSeconds: readInt(env, "GRAPHQL_QUEUE_WAIT_SECONDS", 30, 1, 600),
    graphqlCompileAfter: readInt(env, "GRAPHQL_COMPILE_AFTER", 3, 0, 1_000_000),
    redisUrl: readUrl(env, "REDIS_URL", ["redis:", "rediss:"]),
    gitRemote,
    shutdownGraceSeconds: readInt(env, "SHUTDOWN_GRACE_SECONDS", 10, 0, 600),
    keepAliveSeconds: readInt(env, "WS_KEEPALIVE_SECONDS", 12, 1, 3600),
    reconcileIntervalSeconds: readInt(env, "RECONCILE_INTERVAL_SECONDS", 30, 1, 3600),
    pgSchema: readSchema(env),
    introspection: readBoolean(env, "INTROSPECTION", env.NODE_ENV?.trim() !== "production"),
    executionPause: readPause(env),
    publicUrl: readPublicUrl(env),
    webhooks: readWebhooks(env),
    corsOrigins: readOrigins(env),
    metricsToken: readToken(env, "METRICS_TOKEN"),
    otelTracesUrl: readOtelTracesUrl(env),
    queryLimits: {
      maxDepth: readInt(env, "QUERY_MAX_DEPTH", 12, 1, 1000),
      maxAliases: readInt(env, "QUERY_MAX_ALIASES", 30, 0, 10_000),
      maxDirectives: readInt(env, "QUERY_MAX_DIRECTIVES", 50, 0, 10_000),
      maxTokens: readInt(env, "QUERY_MAX_TOKENS", 2000, 100, 1_000_000),
      maxCost: readInt(env, "QUERY_MAX_COST", 100_000, 1, 100_000_000),
    },
    maxBodyBytes: readInt(env, "HTTP_MAX_BODY_BYTES", 1024 * 1024, 1024, 256 * 1024 * 1024),
  };
}

function readOrigins(env: Env): string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return [];
  return raw.split(",").map((entry) => {
    const origin = entry.trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError("CORS_ORIGINS", `each entry must be an exact origin such as https://console.example.com, got "${origin}"`);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== origin) {
      throw new ConfigError(
        "CORS_ORIGINS",
        `each entry must be an exact origin such as https://console.example.com (scheme, host, optional port; no path or trailing slash), got "${origin}"`,
      );
    }
    return origin;
  });
}

function readToken(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  if (raw.length < 16 || raw.length > 512 || /[^\x21-\x7e]/.test(raw)) throw new ConfigError(name, "must be 16 to 512 printable characters without spaces");
  return raw;
}

/**
 * The standard OpenTelemetry variables, read as the OTLP exporters do: OTEL_SDK_DISABLED=true
 * or OTEL_TRACES_EXPORTER=none turn tracing off; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the full
 * URL; OTEL_EXPORTER_OTLP_ENDPOINT is a base URL that traces go to at /v1/traces.
 */
function readOtelTracesUrl(env: Env): string | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none") return null;
  const traces = readUrl(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ["http:", "https:"]);
  if (traces) return traces;
  const base = readUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http:", "https:"]);
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : null;
}

function readPublicUrl(env: Env): string | null {
  const raw = readUrl(env, "PUBLIC_URL", ["http:", "https:"]);
  if (raw === null) return null;
  const url = new URL(raw);
  if (url.username || url.password || url.search || url.hash) throw new ConfigError("PUBLIC_URL", `must be a plain base URL without credentials, query or fragment, got "${raw}"`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

function readWebhooks(env: Env): WebhookConfig {
  return {
    secretKey: readKey(env, "WEBHOOK_SECRET_KEY"),
    timeoutMs: readInt(env, "WEBHOOK_TIMEOUT_MS", 10_000, 1, 120_000),
    maxAttempts: readInt(env, "WEBHOOK_MAX_ATTEMPTS", 8, 1, 50),
    retryBaseMs: readInt(env, "WEBHOOK_RETRY_BASE_MS", 30_000, 1, 3_600_000),
    pollMs: readInt(env, "WEBHOOK_POLL_MS", 1_000, 10, 600_000),
    concurrency: readInt(env, "WEBHOOK_CONCURRENCY", 16, 1, 256),
    retentionDays: readInt(env, "WEBHOOK_RETENTION_DAYS", 30, 1, 3650),
  };
}

/** 32 bytes as 64 hex digits or base64. */
function readKey(env: Env, name: string): Buffer | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, "hex") : /^[A-Za-z0-9+/_-]{43}=?$/.test(raw) ? Buffer.from(raw, "base64") : null;
  if (!key || key.length !== 32) throw new ConfigError(name, "must be 32 bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)");
  return key;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

function readSchema(env: Env): string | null {
  const raw = env.PG_SCHEMA?.trim();
  if (!raw) return null;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError("PG_SCHEMA", `must be a lowercase SQL identifier, got "${raw}"`);
  return raw;
}

function readPause(env: Env): Config["executionPause"] {
  const at = env.EXECUTION_PAUSE_AT?.trim();
  if (!at) return null;
  if (at !== "before-commit" && at !== "after-commit") throw new ConfigError("EXECUTION_PAUSE_AT", `must be before-commit or after-commit, got "${at}"`);
  return { at, ms: readInt(env, "EXECUTION_PAUSE_MS", 60_000, 0, 3_600_000) };
}
