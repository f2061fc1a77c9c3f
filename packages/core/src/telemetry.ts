import { context, propagation } from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import { createScrubber } from './scrub.js';

export type TelemetryHandle = {
  /** BullMQ's OpenTelemetry adapter: pass as `telemetry` to Queue and Worker. */
  bullmq: Telemetry;
  /** The secrets spans are scrubbed of, replaced (a reload's new tokens). */
  updateSecrets(secrets: string[]): void;
  shutdown(): Promise<void>;
};

/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: nothing is loaded
 * otherwise. Call it before importing the modules it instruments (the entry points import
 * their app dynamically after it). Spans: the webhook request, its job (bullmq-otel), the
 * Green-API calls (undici) and S3 (the SDK's HTTP requests; the AWS SDK instrumentation
 * cannot patch the SDK's ES modules). Green-API puts the instance token in
 * the URL path, which instrumentations record in several attributes: every span is scrubbed
 * of the configured secrets on its way out.
 */
export async function startTelemetry(opts: {
  serviceName: string;
  endpoint?: string;
  secrets: string[];
}): Promise<TelemetryHandle | undefined> {
  if (!opts.endpoint) return undefined;
  const { register } = await import('node:module');
  // ESM modules (node:http, the AWS SDK's ES build) are patched through this loader hook.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    { UndiciInstrumentation },
    { HttpInstrumentation },
    { BullMQOtel },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-http'),
    import('bullmq-otel'),
  ]);
  const exporter = scrubbingExporter(new OTLPTraceExporter(), opts.secrets);
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    traceExporter: exporter,
    instrumentations: [new UndiciInstrumentation(), new HttpInstrumentation()],
  });
  sdk.start();
  return {
    bullmq: new BullMQOtel({ tracerName: 'greenapi-archiver' }),
    updateSecrets: (secrets) => exporter.updateSecrets(secrets),
    shutdown: () => sdk.shutdown(),
  };
}

type SpanEvent = { name: string; attributes?: Record<string, unknown> };
type ExportedSpan = {
  name: string;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
  status: { code: number; message?: string };
};
export type SpanExporterLike<S extends ExportedSpan> = {
  export(spans: S[], done: (result: { code: number }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
};

/**
 * Wraps an exporter so no span leaves the process with a secret in its name, attributes,
 * events (a recorded exception's message and stack) or status message. Errors are built
 * without secrets already (packages/greenapi errors.ts); this is the net under everything
 * an instrumentation records by itself, such as the request URL with the token in it.
 */
export function scrubbingExporter<S extends ExportedSpan>(
  inner: SpanExporterLike<S>,
  secrets: string[],
): SpanExporterLike<S> & { updateSecrets(secrets: string[]): void } {
  let scrub = createScrubber(secrets);
  const clean = (value: unknown): unknown => (typeof value === 'string' ? scrub(value) : value);
  const cleanAll = (attributes: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, clean(v)]));
  return {
    export(spans, done) {
      const scrubbed = spans.map(
        (span) =>
          Object.create(span, {
            name: { value: clean(span.name) },
            attributes: { value: cleanAll(span.attributes) },
            events: {
              value: span.events.map((event) => ({
                ...event,
                name: clean(event.name),
                attributes: event.attributes && cleanAll(event.attributes),
              })),
            },
            status: {
              value: { ...span.status, message: clean(span.status.message) },
            },
          }) as S,
      );
      inner.export(scrubbed, done);
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    updateSecrets(next) {
      scrub = createScrubber(next);
    },
  };
}

/**
 * The active trace context, serialised for a job's `telemetry.metadata`, so the job's spans
 * continue the webhook's trace even when jobs are written in batches. Undefined when tracing
 * is off (the no-op propagator writes nothing).
 */
export function currentTraceMetadata(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : undefined;
}
