import type { RedisClient } from '@archiver/core';
import type { Logger } from 'pino';

/**
 * Logs Redis connection changes once per outage. ioredis emits `reconnecting` (and usually
 * `error`) on every retry, about every 2 s, which would flood the log during an outage; a
 * deliberate `quit()` at shutdown emits neither.
 */
export function watchRedis(redis: RedisClient, logger: Logger): void {
  const log = logger.child({ component: 'redis' });
  let down = false;
  let lastError: Error | undefined;
  // Also keeps ioredis from printing "Unhandled error event".
  redis.on('error', (err: Error) => (lastError = err));
  redis.on('reconnecting', () => {
    if (down) return;
    down = true;
    log.error({ err: lastError }, 'redis connection lost: webhooks get 503 until it is back');
  });
  redis.on('ready', () => {
    if (down) log.info('redis reachable again');
    down = false;
    lastError = undefined;
  });
}
