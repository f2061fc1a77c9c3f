import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { STATUSES_JOB, STATUSES_JOB_OPTIONS } from '../src/job-catalog.js';
import { createRedis } from '../src/redis.js';
import { createStatusesQueue, scheduleStatuses, statusesSchedulerId } from '../src/statuses.js';
import './provided.js';

const FLEET = 5000;
const HOUR = 3_600_000;
const ids = Array.from({ length: FLEET }, (_, i) => ({ idInstance: String(1101000000 + i) }));

const redis = createRedis(inject('redisUrl'), 'worker');
const queue = createStatusesQueue(redis, `test-schedules-${randomUUID().slice(0, 8)}`);
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

/** The first run of every status scheduler (BullMQ's `next`), counted per second. */
async function runsPerSecond() {
  const perSecond = new Map<number, number>();
  const minutes = new Set<number>();
  const schedulers = await queue.getJobSchedulers(0, -1);
  const nexts = schedulers.map((s) => s.next ?? 0);
  for (const next of nexts) {
    perSecond.set(Math.floor(next / 1000), (perSecond.get(Math.floor(next / 1000)) ?? 0) + 1);
    minutes.add(Math.floor(next / 60_000));
  }
  return {
    total: schedulers.length,
    busiest: Math.max(...perSecond.values()),
    minutes: minutes.size,
    spanMs: Math.max(...nexts) - Math.min(...nexts),
  };
}

async function inBatches<T>(items: T[], each: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += 100) await Promise.all(items.slice(i, i + 100).map(each));
}

describe('status reads of 5,000 instances', () => {
  it('start spread over the interval, also where an earlier release declared them together', async () => {
    // As the release before spreading declared them: no offset, so every first run is "now".
    await inBatches(ids, ({ idInstance }) =>
      queue.upsertJobScheduler(
        statusesSchedulerId(idInstance),
        { every: HOUR },
        { name: STATUSES_JOB, data: { idInstance, minutes: 1440 }, opts: STATUSES_JOB_OPTIONS },
      ),
    );
    const herd = await runsPerSecond();
    expect(herd.total).toBe(FLEET);
    // All 5,000 within the seconds the declaring took.
    expect(herd.spanMs).toBeLessThan(60_000);

    const declared = await scheduleStatuses(queue, ids, {
      intervalMinutes: 60,
      windowMinutes: 1440,
    });
    expect(declared.scheduled).toHaveLength(FLEET);
    expect(declared.moved).toHaveLength(FLEET);
    const spread = await runsPerSecond();
    expect(spread.total).toBe(FLEET);
    // 5,000 over 3,600 s is 1.4 a second on average; the busiest second has a handful.
    expect(spread.busiest).toBeLessThanOrEqual(8);
    expect(spread.minutes).toBeGreaterThanOrEqual(60);
    expect(spread.spanMs).toBeGreaterThan(HOUR - 60_000);
    // One queued run per scheduler: moving one left no second job behind.
    expect(await queue.getDelayedCount()).toBe(FLEET);

    // A restart (or another replica) declares the same: nothing moves, nothing is upserted.
    const before = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.next]));
    const again = await scheduleStatuses(queue, ids, { intervalMinutes: 60, windowMinutes: 1440 });
    expect(again.moved).toEqual([]);
    const after = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.next]));
    expect(after).toEqual(before);

    // A removed instance's scheduler and its queued run go.
    const gone = await scheduleStatuses(queue, ids.slice(1), {
      intervalMinutes: 60,
      windowMinutes: 1440,
    });
    expect(gone.removed).toEqual([statusesSchedulerId(ids[0]?.idInstance ?? '')]);
    expect(await queue.getDelayedCount()).toBe(FLEET - 1);
  });
});
