import type { RedisClient } from './redis.js';
import type { RedisKeys } from './redis-keys.js';

/** One write per instance per this many ms and process: at 50 webhooks/s it is 1 in 1,500. */
export const LAST_SEEN_EVERY_MS = 30_000;

export type LastSeen = {
  /** Notes that a webhook (or polled notification) of the instance arrived. Never throws. */
  touch(idInstance: string): void;
  /** ms of the latest one seen, per id (undefined: never, or not since Redis lost it). */
  read(ids: readonly string[]): Promise<Map<string, number | undefined>>;
};

/**
 * When each instance was last heard from, for `archiver doctor`'s "webhooks seen" check: a
 * hash in Redis written at most every LAST_SEEN_EVERY_MS per process and instance, so the
 * webhook path pays one HSET now and then and never waits for it.
 */
export function createLastSeen(
  redis: RedisClient,
  keys: Pick<RedisKeys, 'lastSeen'>,
  now: () => number = Date.now,
): LastSeen {
  const written = new Map<string, number>();
  return {
    touch(idInstance) {
      const t = now();
      if (t - (written.get(idInstance) ?? 0) < LAST_SEEN_EVERY_MS) return;
      written.set(idInstance, t);
      // Not awaited: a webhook must not wait for (or fail on) a diagnostic.
      redis.hset(keys.lastSeen, idInstance, String(t)).catch(() => written.delete(idInstance));
    },
    async read(ids) {
      const values = ids.length === 0 ? [] : await redis.hmget(keys.lastSeen, ...ids);
      return new Map(ids.map((id, i) => [id, values[i] ? Number(values[i]) : undefined]));
    },
  };
}
