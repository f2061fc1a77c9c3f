// The workspace root does not depend on the workspace packages, so bare specifiers such as
// `@archiver/core` do not resolve from test/. Everything comes in through relative paths to
// the packages' sources, gathered here so that switching to bare specifiers is a one-file edit.
import { randomUUID } from 'node:crypto';
import {
  createArchiveQueue,
  createBackfill,
  createIngestPath,
  createRecordedIndex,
  createMetrics,
  createLogger,
  createRateLimiter,
  loadConfig,
  readArchiveJob,
  type ArchiveJob,
  type Config,
  type InstanceConfig,
  type createRedis,
} from '../../packages/core/src/index.js';
import { createGreenApiClient } from '../../packages/greenapi/src/index.js';
import type { FakeGreenApi } from '../../packages/testkit/src/index.js';

export {
  archiveJobId,
  backfillSchedulerId,
  createBackfillQueue,
  createMetrics,
  createRedis,
  deadlineOf,
  markDone,
  type Config,
  type InstanceConfig,
} from '../../packages/core/src/index.js';
export { GreenApiNetworkError, createGreenApiClient } from '../../packages/greenapi/src/index.js';
export {
  fileWebhook,
  freePort,
  startFakeGreenApi,
  startRedis,
  stateInstanceChangedWebhook,
  textWebhook,
  type FakeGreenApi,
} from '../../packages/testkit/src/index.js';
export { createPoller, startPoller } from '../../apps/poller/src/index.js';
export { startBackfillWorker } from '../../apps/worker/src/backfill-worker.js';

type Redis = ReturnType<typeof createRedis>;

export const silentLogger = createLogger({ level: 'silent', name: 'test' });

export const WA = {
  idInstance: '1101000001',
  apiTokenInstance: 'wa-secret-token-1',
  kind: 'whatsapp',
} as const;
export const MAX = {
  idInstance: '3100000002',
  apiTokenInstance: 'max-secret-token-2',
  kind: 'max',
} as const;

export function uniquePrefix(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

/** The archiver's configuration as an operator would give it, pointing at the fake. */
export function testConfig(opts: {
  fake: FakeGreenApi;
  redisUrl: string;
  prefix: string;
  instances: Array<Partial<InstanceConfig> & { idInstance: string; apiTokenInstance: string }>;
  env?: Record<string, string>;
}): Config {
  const instances = opts.instances.map((i) => ({ apiUrl: opts.fake.url, ...i }));
  return loadConfig(
    {
      REDIS_URL: opts.redisUrl,
      QUEUE_PREFIX: opts.prefix,
      GREEN_API_INSTANCES: JSON.stringify(instances),
      S3_BUCKET: 'not-used-here',
      LOG_LEVEL: 'silent',
      ...opts.env,
    },
    'worker',
  );
}

export function clientFor(instance: InstanceConfig) {
  return createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' });
}

/** The producer side as the receiver, the poller and the worker wire it, on one connection. */
export function createArchiver(redis: Redis, config: Config) {
  const { keys, queue, instances, writer, records, quarantine, ingest } = createIngestPath(
    redis,
    config,
  );
  const metrics = createMetrics();
  const limiter = createRateLimiter(redis, keys);
  const backfill = createBackfill({
    writer,
    records,
    recorded: createRecordedIndex(redis, config.queuePrefix, 0),
    limiter,
    clientFor,
    instances,
    retentionDays: config.retentionDays,
    windowMinutes: config.backfill.windowMinutes,
    metrics,
    logger: silentLogger,
  });
  return { keys, queue, instances, writer, quarantine, ingest, metrics, limiter, backfill };
}

const ALL_STATES = [
  'prioritized',
  'waiting',
  'delayed',
  'active',
  'completed',
  'failed',
  'waiting-children',
] as const;

/** Every archive job in the queue, whatever its state, by job id. */
export async function archiveJobs(
  queue: ReturnType<typeof createArchiveQueue>,
): Promise<Map<string, ArchiveJob>> {
  const jobs = await queue.getJobs([...ALL_STATES]);
  const byId = new Map<string, ArchiveJob>();
  for (const job of jobs) {
    if (job.id === undefined) continue;
    if (byId.has(job.id)) throw new Error(`job ${job.id} listed twice`);
    // As the worker reads it: the facts of the file come out of the kept body.
    const read = readArchiveJob(job.data);
    if (!read.ok) throw new Error(`job ${job.id}: ${read.error}`);
    byId.set(job.id, read.data);
  }
  return byId;
}

/** The counter's value for these labels (0 when never incremented). */
export async function counterValue(
  counter: {
    get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }>;
  },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return match?.value ?? 0;
}

/** Removes every key under the prefix (the shared Redis is never flushed). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A second handle on the archive queue, for reading what a test run left in it. */
export function createArchiveQueueFor(redis: Redis, config: Config) {
  return createArchiveQueue(redis, config.queuePrefix);
}
