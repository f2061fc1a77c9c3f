import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  createLogger,
  loadConfig,
  readArchiveJob,
  readRecordJob,
  type Ingest,
} from '@archiver/core';
import type { JobType } from 'bullmq';
import { vi } from 'vitest';
import { createApp, WEBHOOK_PATH, type AppDeps } from '../../src/app.js';
import { listen, listenUrl } from '../../src/server.js';
import { createReceiverServices } from '../../src/wiring.js';
import { INSTANCES, TOKENS } from './fixtures.js';

export type HarnessOptions = {
  redisUrl: string;
  /** Extra environment on top of the test defaults (instances, tokens, prefix). */
  env?: Record<string, string>;
  /** Default true; false starts the app while Redis may be unreachable, as main.ts does. */
  waitForRedis?: boolean;
  /** Wraps the real ingest, e.g. to hold a request in flight. */
  wrapIngest?: (ingest: Ingest) => Ingest;
  /** Review-page dependencies on top of the wired ones (an audit sink, an export). */
  review?: AppDeps['review'];
};

/**
 * The receiver exactly as main.ts wires it, on an ephemeral port, with a fresh queue prefix
 * and a logger writing into memory at debug level. The logger gets no secrets to scrub, so a
 * token in the captured lines means the code logged it.
 */
export async function startReceiver(opts: HarnessOptions) {
  const prefix = `test-receiver-${randomUUID()}`;
  const config = loadConfig(
    {
      REDIS_URL: opts.redisUrl,
      QUEUE_PREFIX: prefix,
      GREEN_API_INSTANCES: JSON.stringify(INSTANCES),
      WEBHOOK_TOKEN: TOKENS.global,
      WEBHOOK_BODY_LIMIT_BYTES: String(16 * 1024),
      ...opts.env,
    },
    'receiver',
  );
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    name: 'receiver',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const services = createReceiverServices(config, logger);
  const { redis, queue, keys, quarantine, metrics } = services;
  const ingest = opts.wrapIngest ? opts.wrapIngest(services.ingest) : services.ingest;
  const app = createApp({
    config,
    logger,
    redis,
    queue,
    ingest,
    metrics,
    review: { ...services.review, ...opts.review },
  });
  // The producer connection refuses commands until it is connected (no offline queue).
  if (opts.waitForRedis !== false) {
    await vi.waitFor(() => redis.ping(), { timeout: 10_000, interval: 20 });
  }
  const server: Server = await listen(app, 0, '127.0.0.1', config.http);
  const url = listenUrl(server);

  return {
    url,
    server,
    config,
    prefix,
    redis,
    queue,
    keys,
    quarantine,
    metrics,
    logs: () => lines.join(''),
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),

    post(body: unknown, init: Parameters<typeof postWebhook>[2] = {}) {
      return postWebhook(url, body, init);
    },

    /** Every archive job in any state. */
    jobs() {
      return queue.getJobs(ANY_STATE);
    },

    /** Every archive job as the worker reads it: its facts come out of its kept body. */
    async files() {
      return readAll(await queue.getJobs(ANY_STATE), readArchiveJob);
    },

    /** Every record job (messages without a file, events) in any state, read as the worker does. */
    async recordJobs() {
      const jobs = await services.recordQueue.getJobs(ANY_STATE);
      return readAll(jobs, readRecordJob).map((data, k) => ({ id: jobs[k]?.id, data }));
    },

    async metricsText() {
      return (await fetch(`${url}/metrics`)).text();
    },

    /** Removes everything this receiver stored (BullMQ keys, quarantine, dedupe markers). */
    async clean() {
      await queue.obliterate({ force: true });
      const found = await redis.keys(`${prefix}:*`);
      if (found.length > 0) await redis.del(...found);
    },

    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await services.close();
    },
  };
}

export type TestReceiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * POST a webhook; `token: null` sends no Authorization header, `authorization` sends it
 * verbatim; `path` replaces the webhook path (default WEBHOOK_PATH).
 */
export function postWebhook(
  url: string,
  body: unknown,
  init: { token?: string | null; authorization?: string; path?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const token = init.token === undefined ? TOKENS.whatsapp1 : init.token;
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  else if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${url}${init.path ?? WEBHOOK_PATH}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The value of one sample in Prometheus text, or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const present = labelText.split(',');
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) {
      return Number(line.slice(line.indexOf('}') + 1).trim());
    }
  }
  return 0;
}

const ANY_STATE: JobType[] = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'];

/** Each job's data as `read` gives it; a job it cannot read fails the test, naming the job. */
function readAll<T>(
  jobs: Array<{ id?: string; data: unknown }>,
  read: (raw: unknown) => { ok: true; data: T } | { ok: false; error: string },
): T[] {
  return jobs.map((job) => {
    const r = read(job.data);
    if (!r.ok) throw new Error(`job ${job.id}: ${r.error}`);
    return r.data;
  });
}
