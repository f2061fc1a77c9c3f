import { Redis, type RedisOptions } from 'ioredis';
import { defineQueueScripts } from './queue.js';
import { defineLimiterScripts } from './rate-limit.js';

/**
 * Workers wait for Redis forever (`maxRetriesPerRequest: null`, BullMQ's requirement for a
 * Worker). Producers fail fast instead, so the receiver answers 503 while Redis is down
 * rather than holding Green-API's request open.
 */
export function createRedis(
  url: string,
  role: 'worker' | 'producer',
  extra: RedisOptions = {},
): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: 1500,
          commandTimeout: 1500,
          retryStrategy: (times) => Math.min(times * 200, 2000),
        };
  const redis = new Redis(url, { ...options, ...extra });
  // Every archiver script up front: with auto-pipelining, one defined on first use would be
  // missing from a pipeline already open (the pipeline copies the scripts when it opens).
  defineQueueScripts(redis);
  defineLimiterScripts(redis);
  return redis;
}
