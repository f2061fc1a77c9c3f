import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { redisKeys } from '../src/redis-keys.js';
import { createRateLimiter } from '../src/rate-limit.js';
import { createRedis } from '../src/redis.js';
import './provided.js';

const connections: Array<ReturnType<typeof createRedis>> = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.quit()));
});

function setUp() {
  const redis = createRedis(inject('redisUrl'), 'worker');
  connections.push(redis);
  const keys = redisKeys(`limiter-${randomUUID().slice(0, 8)}`);
  const inflight = `${keys.rate('1101000001', 'downloadFile')}:inflight`;
  return { redis, limiter: createRateLimiter(redis, keys), inflight };
}

describe('rate limiter: a free slot admits its request in the same call', () => {
  it('admits with the slot when it begins now, and `admitted` then sends without admitting again', async () => {
    const { redis, limiter, inflight } = setUp();
    const slot = await limiter.acquire('1101000001', 'downloadFile', 5, {
      maxWaitMs: 1000,
      holdMs: 30_000,
    });
    expect(slot).toMatchObject({ go: true, waitMs: 0 });
    expect(slot.admission).toBeDefined();
    expect(await redis.zrange(inflight, 0, -1)).toEqual([slot.admission]);

    const during = await limiter.admitted(
      '1101000001',
      'downloadFile',
      5,
      () => redis.zrange(inflight, 0, -1),
      { holdMs: 30_000, admission: slot.admission },
    );
    // Counted once while in flight, and kept (released, for one window) afterwards.
    expect(during).toEqual([slot.admission]);
    const [member, releasedAt] = await redis.zrange(inflight, 0, -1, 'WITHSCORES');
    expect(member).toBe(slot.admission);
    expect(Number(releasedAt)).toBeLessThan(Date.now() + 5_000);
  });

  it('does not admit a slot that begins later, nor without holdMs, nor past the limit', async () => {
    const { redis, limiter, inflight } = setUp();
    const first = await limiter.acquire('1101000001', 'downloadFile', 5, { maxWaitMs: 1000 });
    expect(first.go).toBe(true);
    expect(first.admission).toBeUndefined();
    const later = await limiter.acquire('1101000001', 'downloadFile', 5, {
      maxWaitMs: 1000,
      holdMs: 30_000,
    });
    expect(later.go).toBe(true);
    expect(later.waitMs).toBeGreaterThan(0);
    expect(later.admission).toBeUndefined();
    expect(await redis.zcard(inflight)).toBe(0);

    // Five requests in flight fill a 5 rps window: a sixth free slot is not admitted with it.
    const now = Date.now();
    await redis.zadd(inflight, ...[1, 2, 3, 4, 5].flatMap((k) => [now + 30_000, `busy-${k}`]));
    const full = await limiter.acquire('1101000001', 'downloadFile', 5, {
      maxWaitMs: 1000,
      reservedAt: later.slotAt,
      holdMs: 30_000,
    });
    expect(full.admission).toBeUndefined();
    expect(await redis.zcard(inflight)).toBe(5);
  });
});

describe('rate limiter: 429 penalties', () => {
  it('honours a Retry-After up to a minute, never an hour', async () => {
    const { limiter } = setUp();
    expect(await limiter.penalize('1101000001', 'downloadFile', 5000)).toBe(5000);
    expect(await limiter.penalize('1101000001', 'downloadFile', 3_600_000)).toBe(60_000);
    const slot = await limiter.acquire('1101000001', 'downloadFile', 5, { maxWaitMs: 0 });
    expect(slot.go).toBe(false);
    expect(slot.waitMs).toBeLessThanOrEqual(60_000);
    expect(slot.waitMs).toBeGreaterThan(50_000);
  });
});
