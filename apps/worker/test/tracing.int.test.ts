import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { freePort } from '@archiver/testkit';
import { MAX, WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob } from './corpus.js';
import { isRunning, spawnApp, type SpawnedApp } from './process.js';

type Span = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
};

let p: Pipeline;
let collector: Server;
const spans: { service: string; span: Span }[] = [];
const bodies: string[] = [];
const apps: SpawnedApp[] = [];
let receiver: SpawnedApp;

/** A minimal OTLP/HTTP JSON trace collector. */
async function startCollector(): Promise<string> {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const payload = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: Span['attributes'] };
          scopeSpans: { spans: Span[] }[];
        }[];
      };
      for (const rs of payload.resourceSpans) {
        const service = String(
          rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
        );
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ service, span });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  return `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  p = await startPipeline();
  await p.stopWorker();
  const endpoint = await startCollector();
  const s3 = inject('s3');
  const common = {
    REDIS_URL: p.config.redisUrl,
    QUEUE_PREFIX: p.prefix,
    GREEN_API_INSTANCES: JSON.stringify(
      [WA, MAX].map((i) => ({ ...i, apiUrl: p.fake.url, webhookToken: 'trace-hook-token-31d' })),
    ),
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    LOG_LEVEL: 'warn',
  };
  apps.push(
    spawnApp('worker', {
      ...common,
      S3_BUCKET: s3.bucket,
      S3_PREFIX: `${p.prefix}/`,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      METRICS_PORT: '0',
    }),
  );
  const port = await freePort();
  receiver = spawnApp('receiver', { ...common, PORT: String(port) });
  apps.push(receiver);
  (globalThis as { receiverPort?: number }).receiverPort = port;
});
afterAll(async () => {
  for (const app of apps) app.child.kill('SIGKILL');
  collector?.close();
  await p?.close();
});

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it("continues a webhook's trace into its job, the Green-API call and the S3 upload, with no token in any span", async () => {
    const port = (globalThis as { receiverPort?: number }).receiverPort!;
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '12@c.us',
      idMessage: 'TRACE1',
      size: 2048,
    });
    // Until the receiver is up: with the OTel SDK and tsx it can take long to start while the
    // rest of the suite loads the machine. A receiver that died fails at once, with its output.
    await vi.waitFor(
      async () => {
        if (!isRunning(receiver.child)) throw new Error(`receiver exited:\n${receiver.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/webhooks/green-api`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer trace-hook-token-31d',
            'content-type': 'application/json',
          },
          body: JSON.stringify(job.hook),
        });
        expect(res.status).toBe(200);
      },
      { timeout: 90_000, interval: 200 },
    );
    const jobId = (
      await p.queue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'delayed'])
    )[0]!.id!;
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 100 })
      .toBe('completed');

    // The receiver's span of the webhook that stored the job (earlier polls may have failed).
    const enqueued = () =>
      spans.find((s) => s.service === 'archiver-receiver' && s.span.name.startsWith('addBulk'));
    await expect.poll(() => enqueued(), { timeout: 20_000, interval: 100 }).toBeDefined();
    const traceId = enqueued()!.span.traceId;
    expect(
      spans.some(
        (s) =>
          s.span.traceId === traceId &&
          s.service === 'archiver-receiver' &&
          s.span.name.startsWith('POST'),
      ),
    ).toBe(true);
    const inTrace = () => spans.filter((s) => s.span.traceId === traceId);
    const names = () => inTrace().map((s) => `${s.service}:${s.span.name}`);
    await expect
      .poll(() => names().some((n) => n.startsWith('archiver-worker:') && /process/i.test(n)), {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(true);
    await expect
      .poll(
        () =>
          inTrace().some(
            (s) =>
              s.service === 'archiver-worker' &&
              s.span.attributes.some(
                (a) =>
                  a.key === 'url.full' && String(a.value.stringValue).includes('/downloadFile/'),
              ),
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    const s3Put = (s: { service: string; span: Span }) =>
      s.service === 'archiver-worker' &&
      s.span.attributes.some(
        (a) =>
          String(a.value.stringValue).includes(`${inject('s3').bucket}/${p.prefix}/`) &&
          String(a.value.stringValue).includes('PutObject'),
      );
    await expect
      .poll(() => inTrace().filter(s3Put).length, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(2);
    for (const body of bodies) {
      expect(body).not.toContain(WA.apiTokenInstance);
      expect(body).not.toContain('trace-hook-token-31d');
    }
  }, 180_000);
});
