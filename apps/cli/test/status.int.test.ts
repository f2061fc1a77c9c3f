import {
  archiveJobRequest,
  redisKeys,
  createJobWriter,
  createQuarantine,
  deadlineOf,
  instanceMap,
  retentionResolver,
} from '@archiver/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { collectStatus, type StatusReport } from '../src/commands/status.js';
import {
  createContext,
  envOf,
  jobData,
  MAX,
  seedFailedJobs,
  WA,
  type TestContext,
} from './helpers.js';
import { seedFailedRecordJobs } from './record-jobs.js';

const now = Math.floor(Date.now() / 1000);

describe('archiver status', () => {
  let ctx: TestContext;

  beforeEach(() => {
    ctx = createContext('status');
  });

  afterEach(async () => {
    await ctx.close();
  });

  it('prints counts matching the seeded state', async () => {
    // Failed first: the seeding worker would otherwise take the waiting jobs too.
    await seedFailedJobs(ctx, [
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: 'a@c.us',
        idMessage: 'f1',
        timestamp: now,
        failedReason: 'permanent_failure: no_file: gone',
      },
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: 'a@c.us',
        idMessage: 'f2',
        timestamp: now,
        failedReason: 'permanent_failure: no_file: gone',
      },
      {
        idInstance: MAX,
        kind: 'max',
        chatId: '-1',
        idMessage: 'f3',
        timestamp: now - 20 * 86_400,
        failedReason: 'expired: deadline_passed: timeout',
      },
      {
        idInstance: MAX,
        kind: 'max',
        chatId: '-1',
        idMessage: 'f4',
        timestamp: now,
        failedReason: 'job stalled more than allowable limit',
      },
    ]);

    // A text message's record job an older worker could not read.
    await seedFailedRecordJobs(ctx, [
      {
        body: {
          typeWebhook: 'incomingMessageReceived',
          instanceData: {
            idInstance: Number(WA),
            wid: '79876543210@c.us',
            typeInstance: 'whatsapp',
          },
          timestamp: now,
          idMessage: 't1',
          senderData: { chatId: 'a@c.us', sender: 'a@c.us' },
          messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'hi' } },
        },
        failedReason: 'invalid_job: chatId: Invalid input',
      },
    ]);

    // Three jobs the receiver's way (deadline index + prioritized by deadline), one delayed.
    const keys = redisKeys(ctx.queuePrefix);
    const instances = instanceMap(ctx.deps.config.instances);
    const writer = createJobWriter({
      redis: ctx.deps.redis,
      queue: ctx.deps.queue,
      keys,
      retentionDays: retentionResolver(instances, 15),
    });
    const oldest = now - 14 * 86_400;
    await Promise.all([
      writer.write(
        jobData({
          idInstance: WA,
          kind: 'whatsapp',
          chatId: 'a@c.us',
          idMessage: 'w1',
          timestamp: now - 3600,
        }),
      ),
      writer.write(
        jobData({
          idInstance: WA,
          kind: 'whatsapp',
          chatId: 'a@c.us',
          idMessage: 'w2',
          timestamp: oldest,
        }),
      ),
      writer.write(
        jobData({
          idInstance: MAX,
          kind: 'max',
          chatId: '-1',
          idMessage: 'w3',
          timestamp: now - 60,
        }),
      ),
    ]);
    const delayed = archiveJobRequest(
      jobData({ idInstance: MAX, kind: 'max', chatId: '-1', idMessage: 'd1', timestamp: now }),
      10,
    );
    await ctx.deps.queue.add(delayed.name, delayed.data, { ...delayed.opts, delay: 3_600_000 });
    // A deadline entry whose job is gone (a batch that failed after the index was written)
    // must not count as the oldest.
    await ctx.deps.redis.zadd(keys.deadlines, 1000, `${WA}-stale`);

    const quarantine = createQuarantine(ctx.deps.redis, keys, 100);
    await quarantine.add({
      receivedAt: Date.now(),
      reason: 'unknown typeWebhook',
      body: '{"typeWebhook":"x"}',
    });
    await quarantine.add({ receivedAt: Date.now(), reason: 'no typeWebhook', body: '{}' });

    const status = await collectStatus(ctx.deps);
    expect(status).toEqual<StatusReport>({
      paused: false,
      counts: { waiting: 0, prioritized: 3, active: 0, delayed: 1, failed: 4, completed: 0 },
      instances: {
        [WA]: { waiting: 0, prioritized: 2, active: 0, delayed: 0, failed: 2 },
        [MAX]: { waiting: 0, prioritized: 1, active: 0, delayed: 1, failed: 2 },
      },
      oldestDeadline: {
        at: new Date(deadlineOf(oldest, 15)).toISOString(),
        secondsToExpiry: expect.any(Number) as unknown as number,
      },
      quarantine: 2,
      failedByReason: { no_file: 2, deadline_passed: 1, unknown: 1 },
      records: { failed: 1 },
    });
    // About a day left (14 of 15 days gone), less the test's run time.
    expect(status.oldestDeadline?.secondsToExpiry).toBeGreaterThan(86_400 - 120);
    expect(status.oldestDeadline?.secondsToExpiry).toBeLessThanOrEqual(86_400);

    expect(await runCli(['status'], envOf(ctx), ctx.io, ctx.factory)).toBe(0);
    const text = ctx.io.text.out;
    expect(text).toMatch(/prioritized\s+3/);
    expect(text).toMatch(/failed\s+4/);
    expect(text).toMatch(new RegExp(`${WA}\\s+0\\s+2\\s+0\\s+0\\s+2`));
    expect(text).toMatch(/Oldest deadline: .*expires in (23h|1d)/);
    expect(text).toContain('Quarantine: 2 bodies');
    expect(text).toContain(`Queue ${ctx.queuePrefix}:records: 1 failed`);
    expect(text).toMatch(/no_file\s+2/);

    const json = ctx.resetIo();
    expect(await runCli(['status', '--json'], envOf(ctx), json, ctx.factory)).toBe(0);
    expect((JSON.parse(json.text.out) as StatusReport).counts.failed).toBe(4);
  });

  it('reports an empty queue', async () => {
    const status = await collectStatus(ctx.deps);
    expect(status.oldestDeadline).toBeNull();
    expect(status.instances).toEqual({});
    expect(Object.values(status.counts).every((n) => n === 0)).toBe(true);
    expect(await runCli(['status'], envOf(ctx), ctx.io, ctx.factory)).toBe(0);
    expect(ctx.io.text.out).toContain('Oldest deadline: none (nothing waits)');
    expect(ctx.io.text.out).toContain(`Queue ${ctx.queuePrefix}:records: 0 failed`);
  });
});
