import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { expect, inject } from 'vitest';
import { RECORD_QUEUE, createIngestPath, createMetrics } from '@archiver/core';
// The worker's own record processor and write-once writer, reached by path as the testkit
// is: a retried job is proven by the code that runs it in production.
import { createRecordProcessor, type RecordResult } from '../../worker/src/jobs/record-event.js';
import { createRecordWorker } from '../../worker/src/record-worker.js';
import { createRecordWriter, detectRecordWriteMode } from '../../worker/src/storage/records.js';
import { s3Of } from '../src/deps.js';
import type { TestContext } from './helpers.js';

export type FailedRecordSeed = { body: Record<string, unknown>; failedReason: string };

/**
 * Failed record jobs made the real way: stored by core's ingest path as the receiver stores
 * them, then failed by a BullMQ worker whose processor throws UnrecoverableError with the
 * given failedReason (`invalid_job: …` is what a worker that cannot read a job's shape
 * writes). Returns the job ids in seed order.
 */
export async function seedFailedRecordJobs(
  ctx: TestContext,
  seeds: FailedRecordSeed[],
): Promise<string[]> {
  const { ingest } = createIngestPath(ctx.deps.redis, ctx.deps.config, {
    queue: ctx.deps.queue,
    recordQueue: ctx.deps.recordQueue,
  });
  const reasons = new Map<string, string>();
  const ids: string[] = [];
  for (const seed of seeds) {
    const text = JSON.stringify(seed.body);
    const result = await ingest(JSON.parse(text), text, 'webhook');
    if (result.outcome !== 'accepted') throw new Error(`not a record job: ${result.outcome}`);
    reasons.set(result.jobId, seed.failedReason);
    ids.push(result.jobId);
  }
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const worker = new Worker(
    RECORD_QUEUE,
    async (job) => {
      throw new UnrecoverableError(reasons.get(job.id ?? '') ?? 'invalid_job: unseeded');
    },
    { connection, prefix: ctx.queuePrefix, concurrency: 8 },
  );
  await expect
    .poll(() => ctx.deps.recordQueue.getFailedCount(), { timeout: 20_000 })
    .toBe(seeds.length);
  await worker.close();
  await connection.quit();
  return ids;
}

export type RunningRecordWorker = {
  /** Job id → what the processor answered, for every job it completed. */
  results: Map<string, RecordResult>;
  close(): Promise<void>;
};

/**
 * The worker's record worker on the test's Redis and S3: its processor, its write-once
 * record writer (in the mode the store supports) and its worker options.
 */
export async function startRecordWorker(ctx: TestContext): Promise<RunningRecordWorker> {
  const { config } = ctx.deps;
  const s3 = s3Of(config);
  const mode = await detectRecordWriteMode(ctx.deps.s3, s3.bucket, s3.prefix);
  const putRecord = createRecordWriter({
    client: ctx.deps.s3,
    bucket: s3.bucket,
    protection: () => Promise.resolve({}),
    mode: () => Promise.resolve(mode),
    checksum: 'CRC32',
    onWritten: () => Promise.resolve(),
  });
  const logger = pino({ level: 'silent' });
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const worker = createRecordWorker({
    connection,
    config,
    processor: createRecordProcessor({
      prefix: s3.prefix,
      putRecordOnce: async (key, record) => ({ written: (await putRecord(key, record)).written }),
      metrics: createMetrics(),
      logger,
    }),
    logger,
  });
  const results = new Map<string, RecordResult>();
  worker.on('completed', (job, result) => results.set(job.id ?? '', result));
  return {
    results,
    async close() {
      await worker.close();
      await connection.quit();
    },
  };
}
