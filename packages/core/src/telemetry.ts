import { context, propagation } from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import { scrubSecrets } from './logger.js';

export type TelemetryHandle = {
  /** BullMQ's OpenTelemetry adapter: pass as `telemetry` to Queue and Worker. */
  bullmq: Telemetry;
  shutdown(): Promise<void>;
};

/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: nothing is loaded
 * otherwise. Call it before importing the modules it instruments (the entry points import
 * their app dynamically after it). Spans: the webhook request, its job (bullmq-otel), the
 * Green-API calls (undici) and S3 (AWS SDK + http). Green-API puts the instance token in
 * the URL path, so every URL attribute is scrubbed of the configured secrets.
 */
export async function startTelemetry(opts: { serviceName: string; endpoint?: string; secrets: string[] }): Promise<TelemetryHandle | undefined> {
  if (!opts.endpoint) return undefined;
  const { register } = await import('node:module');
  // ESM modules (node:http, the AWS SDK's ES build) are patched through this loader hook.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { OTLPTraceExporter }, { UndiciInstrumentation }, { HttpInstrumentation }, { AwsInstrumentation }, { BullMQOtel }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-aws-sdk'),
      import('bullmq-otel'),
    ]);
  const scrub = (span: { setAttribute(key: string, value: string): unknown }, url: string | undefined) => {
    if (!url) return;
    const clean = scrubSecrets(url, opts.secrets);
    span.setAttribute('url.full', clean);
    span.setAttribute('http.url', clean);
  };
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new UndiciInstrumentation({ requestHook: (span, request) => scrub(span, `${request.origin}${request.path}`) }),
      new HttpInstrumentation({
        requestHook: (span, request) => {
          if ('path' in request && typeof request.path === 'string') span.setAttribute('url.path', scrubSecrets(request.path, opts.secrets));
        },
      }),
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    ],
  });
  sdk.start();
  return { bullmq: new BullMQOtel({ tracerName: 'greenapi-archiver' }), shutdown: () => sdk.shutdown() };
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
