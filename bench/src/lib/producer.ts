import { redisKeys, createArchiveQueue, createJobWriter, createRedis } from '@archiver/core';

/**
 * The receiver's producer side (archive queue + group-commit job writer) on a connection of
 * its own, for queueing benchmark jobs exactly as webhooks are queued. The offline queue is
 * on so that writes issued before the connection is up wait for it.
 */
export function createBenchProducer(redisUrl: string, prefix: string) {
  const redis = createRedis(redisUrl, 'producer', { enableOfflineQueue: true });
  const queue = createArchiveQueue(redis, prefix);
  const writer = createJobWriter({
    redis,
    queue,
    keys: redisKeys(prefix),
    retentionDays: () => 15,
  });
  return {
    redis,
    queue,
    writer,
    async close(): Promise<void> {
      await queue.close();
      await redis.quit();
    },
  };
}
