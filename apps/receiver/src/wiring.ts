import type { Logger } from 'pino';
import type { Telemetry } from 'bullmq';
import {
  createIngestPath,
  createLastSeen,
  createMetrics,
  createRedis,
  reportQuarantineDrops,
  type Config,
  type Metrics,
  type InstanceRegistry,
} from '@archiver/core';
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
  const lastSeen = createLastSeen(redis, keys);

  return {
    redis,
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
