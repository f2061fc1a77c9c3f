import type { Cluster, Redis } from 'ioredis';
import { canonicalEntry, parseEntry, type CustodyEntry } from './entry.js';
import type { CustodyKeys } from './custody-keys.js';

export type PendingEntry = { id: string; entry: CustodyEntry; bytes: string };

/**
 * The unsealed part of the custody log: a Redis stream. Recording costs one XADD per object
 * written (on an auto-pipelined connection it travels with the job's other commands); the
 * stream is trimmed only after a seal listing its entries is stored in S3.
 */
export function createCustodyLog(redis: Redis | Cluster, keys: CustodyKeys) {
  return {
    keys,
    async record(entry: CustodyEntry): Promise<void> {
      await redis.xadd(keys.entries, '*', 'e', canonicalEntry(entry));
    },

    /** The oldest `count` unsealed entries after stream id `after` (exclusive). */
    async pending(count: number, after = '-'): Promise<PendingEntry[]> {
      const start = after === '-' ? '-' : `(${after}`;
      const rows = await redis.xrange(keys.entries, start, '+', 'COUNT', count);
      return rows.map(([id, fields]) => {
        const bytes = fields[fields.indexOf('e') + 1] ?? '';
        return { id, entry: parseEntry(bytes), bytes };
      });
    },

    async waiting(): Promise<number> {
      return redis.xlen(keys.entries);
    },

    /** When the oldest unsealed entry was recorded (ms), from its stream id; null when none. */
    async oldestMs(): Promise<number | null> {
      const [first] = await redis.xrange(keys.entries, '-', '+', 'COUNT', 1);
      return first ? Number(first[0].split('-')[0]) : null;
    },
  };
}

export type CustodyLog = ReturnType<typeof createCustodyLog>;

/** The first stream id after `id`: XTRIM MINID keeps it and drops everything before. */
export function nextStreamId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}
