import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { luaScript } from '@archiver/lua-script';

// Only the holder's token releases or extends the lock.
const RELEASE = luaScript({
  name: 'custodySealLockRelease',
  keys: ['lock'],
  args: { token: 'string' },
  body: `if redis.call('GET', lock) == token then return redis.call('DEL', lock) end return 0`,
  reply: Number,
});
const EXTEND = luaScript({
  name: 'custodySealLockExtend',
  keys: ['lock'],
  args: { token: 'string', ttlMs: 'number' },
  body: `
if redis.call('GET', lock) == token then return redis.call('PEXPIRE', lock, ttlMs) end
return 0
`,
  reply: (raw) => raw === 1,
});

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
    extend() {
      return EXTEND.run(redis, { keys: { lock: key }, args: { token, ttlMs } });
    },
    async release() {
      await RELEASE.run(redis, { keys: { lock: key }, args: { token } });
    },
  };
}
