import type { RedisClient } from './redis.js';
import { RECORD_QUEUE } from './job-catalog.js';

/**
 * Messages recorded lately, per instance: a sorted set of record job ids scored by when
 * their record was written (or found written). The journals' backfill reads it to skip a
 * message already kept without a job or an S3 request for each of the thousands a journal
 * lists every run; the record in S3 stays the durable guard (write-once), this only saves
 * the work. Kept as long as a journal window can reach back (BACKFILL_WINDOW_MINUTES plus
 * an interval); 0 keeps nothing (backfill off).
 */
export function createRecordedIndex(redis: RedisClient, prefix: string, keepMs: number) {
  const key = (idInstance: string) => `${prefix}:${RECORD_QUEUE}:recorded:${idInstance}`;
  let added = 0;
  return {
    keepMs,
    async add(idInstance: string, jobId: string): Promise<void> {
      if (keepMs <= 0) return;
      const now = Date.now();
      const k = key(idInstance);
      const writes = redis.multi().zadd(k, now, jobId).pexpire(k, keepMs);
      // Trimmed now and then, not on every write: one command less on the busy path.
      added += 1;
      if (added % 100 === 1) writes.zremrangebyscore(k, '-inf', now - keepMs);
      await writes.exec();
    },
    /** For each job id: recorded lately, or queued (its BullMQ hash exists). */
    async known(idInstance: string, jobIds: string[]): Promise<boolean[]> {
      if (jobIds.length === 0) return [];
      const k = key(idInstance);
      const pipe = redis.pipeline().zmscore(k, ...jobIds);
      for (const id of jobIds) pipe.exists(`${prefix}:${RECORD_QUEUE}:${id}`);
      const replies = (await pipe.exec()) ?? [];
      const scores = (replies[0]?.[1] ?? []) as Array<string | null>;
      return jobIds.map((_, i) => scores[i] !== null || replies[i + 1]?.[1] === 1);
    },
  };
}

export type RecordedIndex = ReturnType<typeof createRecordedIndex>;
