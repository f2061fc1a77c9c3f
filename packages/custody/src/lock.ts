import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

// Only the holder's token releases or extends the lock.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export type SealLock = { extend(): Promise<boolean>; release(): Promise<void> };

/**
 * One sealer at a time (worker replicas and `archiver seal`): SET NX PX with a random token.
 * It only keeps sealers from wasting work on each other: the fence is the seal's sequence
 * number, whose key is written once, so a holder that stalled past its lock cannot fork the
 * chain.
 */
export async function acquireSealLock(
  redis: Redis | Cluster,
  key: string,
  ttlMs: number,
): Promise<SealLock | undefined> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return undefined;
  return {
    async extend() {
      return (await redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
