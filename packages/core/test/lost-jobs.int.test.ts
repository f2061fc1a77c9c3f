import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { claimNewJobIds, markDone } from '../src/queue.js';
import { redisKeys } from '../src/redis-keys.js';
import {
  encodeJobIdentity,
  findGoneJobs,
  forgetGoneJob,
  type GoneJob,
  type JobIdentity,
} from '../src/lost-jobs.js';
import { oldestDeadlineMs } from '../src/metrics.js';
import { createRedis } from '../src/redis.js';
import './provided.js';

const redis = createRedis(inject('redisUrl'), 'worker');
afterAll(async () => {
  await redis.quit();
});

const identity = (claimedAt: number): JobIdentity => ({
  idInstance: '1101000001',
  kind: 'whatsapp',
  chatId: '7900@c.us',
  idMessage: 'M1',
  timestamp: 1764700000,
  typeWebhook: 'incomingMessageReceived',
  typeMessage: 'imageMessage',
  source: 'webhook',
  claimedAt,
});

async function gone(keys: ReturnType<typeof redisKeys>): Promise<GoneJob[]> {
  const found: GoneJob[] = [];
  for await (const g of findGoneJobs(redis, keys)) found.push(g);
  return found;
}

describe('the deadline index and the lost-job fence', () => {
  it('indexes an identity with each claim and drops it when the job ends', async () => {
    const keys = redisKeys(`lost-${randomUUID().slice(0, 8)}`);
    const stored = encodeJobIdentity(identity(1_000_000));
    await claimNewJobIds(redis, keys, [{ jobId: '1101000001-a', deadline: 5, identity: stored }]);
    expect(await redis.hget(keys.identities, '1101000001-a')).toBe(stored);
    await markDone(redis, keys, '1101000001-a', 'archived', Date.now());
    expect(await redis.hget(keys.identities, '1101000001-a')).toBeNull();
    expect(await redis.zcard(keys.deadlines)).toBe(0);
  });

  it('does not forget an entry claimed again since the sweep read it', async () => {
    const keys = redisKeys(`lost-${randomUUID().slice(0, 8)}`);
    const jobId = '1101000001-b';
    const first = encodeJobIdentity(identity(1_000_000));
    await claimNewJobIds(redis, keys, [{ jobId, deadline: 5, identity: first }]);
    const [seen] = await gone(keys);
    expect(seen).toMatchObject({ jobId, stored: first, identity: { idMessage: 'M1' } });

    // A redelivery claims the id again (the job hash not added yet) before the sweep is done.
    const again = encodeJobIdentity(identity(2_000_000));
    await claimNewJobIds(redis, keys, [{ jobId, deadline: 5, identity: again }]);
    expect(await forgetGoneJob(redis, keys, seen as GoneJob)).toBe(false);
    expect(await redis.zscore(keys.deadlines, jobId)).toBe('5');

    // The fresh read forgets it, once; a second sweeper holding the same read does not.
    const [fresh] = await gone(keys);
    expect(await forgetGoneJob(redis, keys, fresh as GoneJob)).toBe(true);
    expect(await forgetGoneJob(redis, keys, fresh as GoneJob)).toBe(false);
    expect(await redis.hget(keys.identities, jobId)).toBeNull();
  });

  it('removes, without yielding, an entry whose job ended', async () => {
    const keys = redisKeys(`lost-${randomUUID().slice(0, 8)}`);
    await redis.zadd(keys.deadlines, 5, '1101000001-c');
    await redis.set(keys.done('1101000001-c'), 'archived');
    const summary = { inFlight: 0, stale: 0 };
    const found: GoneJob[] = [];
    for await (const g of findGoneJobs(redis, keys, summary)) found.push(g);
    expect(found).toEqual([]);
    expect(summary).toEqual({ inFlight: 0, stale: 1 });
    expect(await redis.zcard(keys.deadlines)).toBe(0);
    await redis.del(keys.done('1101000001-c'));
  });

  it('leaves a gone job to the sweep: the SLO gauge skips its entry, never removes it', async () => {
    const keys = redisKeys(`lost-${randomUUID().slice(0, 8)}`);
    await redis.zadd(keys.deadlines, 5, '1101000001-gone', 9, '1101000001-here');
    await redis.hset(keys.job('1101000001-here'), 'data', '{}');
    expect(await oldestDeadlineMs(redis, keys)).toBe(9);
    expect(await redis.zscore(keys.deadlines, '1101000001-gone')).toBe('5');
    // Nothing there but gone jobs: the earliest, so that the gauge errs towards an alert.
    await redis.del(keys.job('1101000001-here'));
    expect(await oldestDeadlineMs(redis, keys)).toBe(5);
    await redis.del(keys.deadlines);
    expect(await oldestDeadlineMs(redis, keys)).toBeNull();
  });
});
