import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.js';
import type { ArchiverKeys } from './queue.js';

export type QuarantineEntry = {
  id: string;
  receivedAt: number;
  reason: string;
  idInstance?: string;
  typeWebhook?: string;
  /** The body exactly as received (its text), for inspection and replay. */
  body: string;
};

/**
 * Authenticated webhooks the archiver does not recognise are kept, newest `max` of them, so
 * an operator can inspect and replay them; Green-API would otherwise redeliver a refused
 * body every minute for a day and hold back the instance's later webhooks.
 * Layout: a sorted set id → receivedAt for order, a hash id → entry JSON.
 */
export function createQuarantine(redis: RedisClient, keys: ArchiverKeys, max: number) {
  return {
    async add(entry: Omit<QuarantineEntry, 'id'>): Promise<string> {
      const id = randomUUID();
      const results = await redis
        .multi()
        .zadd(keys.quarantine, entry.receivedAt, id)
        .hset(keys.quarantineBodies, id, JSON.stringify({ id, ...entry }))
        .zrange(keys.quarantine, 0, -(max + 1))
        .exec();
      const overflow = (results?.[2]?.[1] as string[] | undefined) ?? [];
      if (overflow.length > 0) {
        await redis
          .multi()
          .zrem(keys.quarantine, ...overflow)
          .hdel(keys.quarantineBodies, ...overflow)
          .exec();
      }
      return id;
    },

    /** Newest first. */
    async list(offset = 0, count = 100): Promise<QuarantineEntry[]> {
      const ids = await redis.zrevrange(keys.quarantine, offset, offset + count - 1);
      if (ids.length === 0) return [];
      const bodies = await redis.hmget(keys.quarantineBodies, ...ids);
      return bodies
        .filter((b): b is string => b !== null)
        .map((b) => JSON.parse(b) as QuarantineEntry);
    },

    async get(id: string): Promise<QuarantineEntry | undefined> {
      const body = await redis.hget(keys.quarantineBodies, id);
      return body ? (JSON.parse(body) as QuarantineEntry) : undefined;
    },

    async remove(id: string): Promise<void> {
      await redis.multi().zrem(keys.quarantine, id).hdel(keys.quarantineBodies, id).exec();
    },

    size(): Promise<number> {
      return redis.zcard(keys.quarantine);
    },
  };
}

export type Quarantine = ReturnType<typeof createQuarantine>;
