import { Redis, type RedisOptions } from 'ioredis';

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
  return new Redis(url, { ...options, ...extra });
}
