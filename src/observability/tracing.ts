import { context, propagation, SpanStatusCode, trace, type Attributes, type Span, type SpanKind, type Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";
import { AppError } from "../errors.js";
import { VERSION } from "../version.js";

/**
 * OpenTelemetry tracing through the official SDK, on only when an OTLP endpoint is configured.
 * Off, nothing of the SDK is imported and the instrumentation wrappers are not installed: the
 * code calls @opentelemetry/api only, whose tracer is a no-op until a provider is registered.
 */
export interface Tracing {
  /** Exports the spans still buffered and unregisters the SDK. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP traces URL; null with no exporter: tracing stays off. */
  tracesUrl: string | null;
  logger: Logger;
  /** Export to this exporter, span by span, instead of OTLP (tests use the SDK's in-memory exporter). */
  exporter?: SpanExporter;
}

let enabled = false;

export function tracingEnabled(): boolean {
  return enabled;
}

export function tracer(): Tracer {
  return trace.getTracer("rollback-server", VERSION);
}

export async function startTracing(options: TracingOptions): Promise<Tracing | null> {
  if (!options.tracesUrl && !options.exporter) return null;
  const [sdk, core, resources, semconv, { AsyncLocalStorageContextManager }] = await Promise.all([
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
    import("@opentelemetry/context-async-hooks"),
  ]);
  let processor;
  if (options.exporter) {
    processor = new sdk.SimpleSpanProcessor({ exporter: options.exporter });
  } else {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    processor = new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: options.tracesUrl! }) });
  }
  const resource = resources.defaultResource().merge(
    resources.resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME?.trim() || "rollback-server",
      [semconv.ATTR_SERVICE_VERSION]: VERSION,
    }),
  );
  const provider = new sdk.TracerProvider({ resource, spanProcessors: [processor] });
  const contextManager = new AsyncLocalStorageContextManager();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  enabled = true;
  options.logger.info({ exporter: options.exporter ? "custom" : options.tracesUrl }, "tracing on: OpenTelemetry spans are exported");
  return {
    async shutdown() {
      enabled = false;
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}

/** Runs `fn` in a new active span that ends when it returns or settles; a failure marks the span. */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T, kind?: SpanKind): T {
  return tracer().startActiveSpan(name, { attributes, kind }, (span) => {
    try {
      const result = fn(span);
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (err: unknown) => {
            markFailed(span, err);
            span.end();
            throw err;
          },
        ) as T;
      }
      span.end();
      return result;
    } catch (err) {
      markFailed(span, err);
      span.end();
      throw err;
    }
  });
}

/**
 * A caller's mistake (an AppError below 500: bad input, not found, forbidden) is an expected
 * outcome and only noted; anything else is an error of the span.
 */
export function markFailed(span: Span, err: unknown): void {
  if (err instanceof AppError) {
    span.setAttribute("error.type", err.code);
    if (err.status < 500) return;
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    return;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  span.setAttribute("error.type", error.name);
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message.split("\n")[0] });
}
