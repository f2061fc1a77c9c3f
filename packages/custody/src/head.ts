import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { sha256Hex } from './entry.js';
import type { CustodyKeys } from './custody-keys.js';
import { sealKey } from './custody-keys.js';
import { parseSeal } from './seal.js';
import type { CustodyStore } from './custody-store.js';

/** The end of the chain: the last seal stored, and the last stream id it sealed. */
export const headSchema = z.object({
  seq: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
  through: z.string(),
});
export type ChainHead = z.infer<typeof headSchema>;

export const EMPTY_HEAD: ChainHead = { seq: 0, sha256: null, through: '0-0' };

export async function readHead(
  redis: Redis | Cluster,
  keys: CustodyKeys,
): Promise<ChainHead | undefined> {
  const text = await redis.get(keys.head);
  return text ? headSchema.parse(JSON.parse(text)) : undefined;
}

/**
 * The last seal in the bucket, for a Redis that lost the head: seal keys are their sequence
 * numbers, so it is found with O(log n) HEAD requests (doubling, then bisecting), no listing.
 */
export async function headFromBucket(store: CustodyStore): Promise<ChainHead> {
  const has = (seq: number) => store.exists(sealKey(store.prefix, seq));
  if (!(await has(1))) return EMPTY_HEAD;
  let low = 1;
  let high = 2;
  while (await has(high)) {
    low = high;
    high *= 2;
  }
  // low exists, high does not
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await has(mid)) low = mid;
    else high = mid;
  }
  return headOfSeal(store, low);
}

export async function headOfSeal(store: CustodyStore, seq: number): Promise<ChainHead> {
  const bytes = await store.get(sealKey(store.prefix, seq));
  if (!bytes) throw new Error(`seal ${seq} vanished while being read`);
  const { statement } = parseSeal(bytes);
  return { seq, sha256: sha256Hex(bytes), through: statement.through };
}

export async function readSealAt(store: CustodyStore, seq: number) {
  const bytes = await store.get(sealKey(store.prefix, seq));
  return bytes ? { bytes, seal: parseSeal(bytes), sha256: sha256Hex(bytes) } : undefined;
}
