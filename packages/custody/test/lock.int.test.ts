import { afterEach, describe, expect, it } from 'vitest';
import { acquireSealLock } from '../src/index.js';
import { custodyContext, type CustodyContext } from './helpers.js';

let c: CustodyContext;
afterEach(async () => c?.close());

describe('seal lock', () => {
  it('is held by one sealer; only its holder extends and releases it', async () => {
    c = custodyContext();
    const lock = await acquireSealLock(c.redis, c.keys.lock, 60_000);
    expect(lock).toBeDefined();
    expect(await acquireSealLock(c.redis, c.keys.lock, 60_000)).toBeUndefined();

    expect(await lock!.extend()).toBe(true);
    const ttl = await c.redis.pttl(c.keys.lock);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    // Expired, then taken by another sealer: the first holder touches the new lock no more.
    await c.redis.del(c.keys.lock);
    const next = await acquireSealLock(c.redis, c.keys.lock, 60_000);
    expect(next).toBeDefined();
    expect(await lock!.extend()).toBe(false);
    await lock!.release();
    expect(await c.redis.exists(c.keys.lock)).toBe(1);

    await next!.release();
    expect(await c.redis.exists(c.keys.lock)).toBe(0);
  });
});
