/**
 * The settings and parsing rules behind CORS, metrics, tracing, request ids and the CLI's
 * one-line usage errors, checked without a server.
 */
import { describe, expect, it } from "vitest";
import { parseOptions, UsageError } from "../../src/cli/args.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { newRequestState } from "../../src/observability/request-context.js";

const config = (env: Record<string, string>) => loadConfig({ DATA_DIR: "/tmp/x", ...env }, "/");
const configError = (env: Record<string, string>) => {
  try {
    config(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("no configuration error");
};

describe("CORS_ORIGINS", () => {
  it("is empty (same-origin only) when unset, and a list of exact origins when set", () => {
    expect(config({}).corsOrigins).toEqual([]);
    expect(config({ CORS_ORIGINS: " https://console.example.com , http://127.0.0.1:5173" }).corsOrigins).toEqual(["https://console.example.com", "http://127.0.0.1:5173"]);
  });

  it("refuses anything that is not an exact origin, naming the variable and the entry", () => {
    for (const bad of ["*", "console.example.com", "https://console.example.com/", "https://console.example.com/app", "ftp://files.example.com"]) {
      expect(configError({ CORS_ORIGINS: bad })).toMatch(new RegExp(`^CORS_ORIGINS: .*got "${bad.replace(/[.*/]/g, "\\$&")}"`));
    }
  });
});

describe("METRICS_TOKEN and the OpenTelemetry variables", () => {
  it("keeps /metrics open without METRICS_TOKEN and refuses a short or spaced token", () => {
    expect(config({}).metricsToken).toBeNull();
    expect(config({ METRICS_TOKEN: "a-long-enough-token-1" }).metricsToken).toBe("a-long-enough-token-1");
    expect(configError({ METRICS_TOKEN: "short" })).toMatch(/^METRICS_TOKEN: must be 16 to 512 printable characters/);
    expect(configError({ METRICS_TOKEN: "has spaces in the middle" })).toMatch(/^METRICS_TOKEN:/);
  });

  it("sends traces to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, or to the traces endpoint as given; off when disabled", () => {
    expect(config({}).otelTracesUrl).toBeNull();
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).otelTracesUrl).toBe("http://collector:4318/v1/traces");
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/custom" }).otelTracesUrl).toBe(
      "http://traces:4318/custom",
    );
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }).otelTracesUrl).toBeNull();
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" }).otelTracesUrl).toBeNull();
    expect(configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT:/);
  });
});

describe("request ids", () => {
  it("keeps a usable X-Request-Id and replaces a missing, empty, spaced or oversized one", () => {
    expect(newRequestState({ "x-request-id": "ticket-4711.a" }).requestId).toBe("ticket-4711.a");
    for (const bad of [undefined, "", "has space", "x".repeat(129), "line\nbreak", "-leading-dash"]) {
      expect(newRequestState({ "x-request-id": bad }).requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
  });

  it("takes the trace id of a valid traceparent only", () => {
    expect(newRequestState({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }).traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(newRequestState({ traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }).traceId).toBeNull();
    expect(newRequestState({ traceparent: "garbage" }).traceId).toBeNull();
  });
});

describe("command-line options", () => {
  const options = { email: { type: "string" }, project: { type: "string" }, agent: { type: "boolean" } } as const;
  const usageError = (argv: string[]) => {
    try {
      parseOptions(argv, options, "token create");
    } catch (err) {
      if (err instanceof UsageError) return err.message;
      throw err;
    }
    throw new Error("no usage error");
  };

  it("parses known options", () => {
    expect(parseOptions(["--email", "a@b.c", "--agent"], options, "token create")).toEqual({ email: "a@b.c", agent: true });
  });

  it("turns parseArgs' errors into one line naming the option, with a suggestion when one is close", () => {
    expect(usageError(["--emial", "a@b.c"])).toBe("unknown option --emial for token create (did you mean --email?)");
    expect(usageError(["--frobnicate"])).toBe("unknown option --frobnicate for token create");
    expect(usageError(["--email"])).toBe("--email needs a value");
    expect(usageError(["--agent=yes"])).toBe("--agent takes no value");
    expect(usageError(["stray"])).toBe('unexpected argument "stray" for token create');
  });
});
