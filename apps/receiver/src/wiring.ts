import type { Logger } from 'pino';
import type { Telemetry } from 'bullmq';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import {
  createIngestPath,
  createLastSeen,
  createMetrics,
  createRedis,
  createS3Client,
  reportQuarantineDrops,
  type Config,
  type Metrics,
  type InstanceRegistry,
  type RedisClient,
} from '@archiver/core';
import {
  createCustodyLog,
  createCustodyStore,
  custodyKeys,
  custodyRecorder,
  writeAuditRecord,
} from '@archiver/custody';
import { writeExport } from '@archiver/export';
import type { AppDeps } from './app.js';
import { watchRedis } from './redis-events.js';

/**
 * The receiver's Redis side, wired as main.ts runs it (tests build the same): one fail-fast
 * producer connection shared by the queue, the group-commit writer and the quarantine.
 */
export function createReceiverServices(
  config: Config,
  logger: Logger,
  telemetry?: Telemetry,
  registry?: InstanceRegistry,
  /** The review page's S3 client settings over the config's (dev: the embedded S3's keys). */
  s3?: Partial<S3ClientConfig>,
) {
  const redis = createRedis(config, 'producer');
  watchRedis(redis, logger);
  // The metrics are built on the queue the ingest path makes: the drop counter comes after.
  const late: { metrics?: Metrics } = {};
  const { keys, queue, recordQueue, quarantine, ingest } = createIngestPath(redis, config, {
    telemetry,
    onQuarantineDrop: reportQuarantineDrops(() => late.metrics, logger),
    instances: registry?.current,
  });
  queue.on('error', (err) => logger.warn({ err, component: 'queue' }, 'queue error'));
  const metrics = createMetrics({ queue, redis, keys });
  late.metrics = metrics;
  // A removed instance's series go with it (series per instance: docs/operations.md).
  registry?.onChange((change) => metrics.forgetInstances(change.removed));
  const lastSeen = createLastSeen(redis, keys);

  return {
    redis,
    review: createReviewServices(config, redis, s3),
    keys,
    queue,
    recordQueue,
    quarantine,
    ingest,
    metrics,
    lastSeen,
    async close(): Promise<void> {
      await queue.close().catch((err: unknown) => logger.warn({ err }, 'queue close failed'));
      await recordQueue.close().catch((err: unknown) => logger.warn({ err }, 'queue close failed'));
      // QUIT needs a live connection; during an outage just drop the socket.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export type ReceiverServices = ReturnType<typeof createReceiverServices>;

/**
 * What the review page reads: the bucket through core's S3 client (the worker's settings),
 * the custody log's seals and unsealed entries, the audit log and the export. No S3 config:
 * the page says so.
 */
function createReviewServices(
  config: Config,
  redis: RedisClient,
  overrides?: Partial<S3ClientConfig>,
): AppDeps['review'] {
  if (!config.review || !config.s3) return {};
  const s3 = createS3Client(config.s3, overrides);
  const { bucket, prefix } = config.s3;
  const store = createCustodyStore(s3, config.s3);
  const keys = custodyKeys(config.queuePrefix);
  // As the worker does: entries only while custody is on (docs/custody.md §2).
  const onWritten = config.custody.signingKey
    ? custodyRecorder(createCustodyLog(redis, keys))
    : undefined;
  return {
    bucket: { s3, bucket, prefix },
    custody: {
      store,
      redis,
      keys,
      intervalMs: config.custody.intervalMinutes * 60_000,
    },
    audit: (record) => writeAuditRecord({ store, onWritten }, record),
    // The CLI's `archiver export`, streamed as the response (docs/export.md).
    exportZip: (selection, out, hooks) =>
      writeExport({ s3, bucket, prefix, store, redis, keys }, selection, out, undefined, hooks),
  };
}
