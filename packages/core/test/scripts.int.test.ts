import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { claimNewJobIds, markDone } from '../src/queue.js';
import { redisKeys } from '../src/redis-keys.js';
import { createRateLimiter } from '../src/rate-limit.js';
import { createRedis } from '../src/redis.js';
import './provided.js';

const connections: Array<ReturnType<typeof createRedis>> = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.quit()));
});

describe("the archiver's Lua scripts", () => {
  // ioredis' auto-pipelining copies a connection's scripts into each pipeline it opens; a
  // script defined later, while a pipeline is open, failed with "pipeline[functionName] is
  // not a function" and wedged the batch (found by `pnpm chaos`, greenapi-500).
  it('are all usable at once, in the first tick, on an auto-pipelined connection', async () => {
    const redis = createRedis(inject('redisUrl'), 'worker', { enableAutoPipelining: true });
    connections.push(redis);
    const keys = redisKeys(`scripts-${randomUUID().slice(0, 8)}`);
    const limiter = createRateLimiter(redis, keys);

    const [slot, , claimed] = await Promise.all([
      limiter.acquire('1101000001', 'downloadFile', 5, { maxWaitMs: 1000 }),
      markDone(redis, keys, 'job-a', 'archived', Date.now() + 60_000),
      claimNewJobIds(redis, keys, [
        { jobId: 'job-b', deadline: Date.now() + 60_000, identity: '{}' },
      ]),
      limiter.admitted('1101000001', 'downloadFile', 5, () => Promise.resolve(), {
        holdMs: 1000,
      }),
    ]);

    expect(slot.go).toBe(true);
    expect(claimed).toEqual(new Set(['job-b']));
    expect(await redis.get(keys.done('job-a'))).toBe('archived');
  });
});
