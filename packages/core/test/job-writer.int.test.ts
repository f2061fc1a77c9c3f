import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deadlineOf } from '../src/deadline.js';
import type { ArchiveJob } from '../src/job.js';
import { keepMessage } from '../src/kept-message.js';
import { createJobWriter } from '../src/job-writer.js';
import { archiveJobRequest, createArchiveQueue, markDone } from '../src/queue.js';
import { redisKeys } from '../src/redis-keys.js';
import './provided.js';

const RETENTION_DAYS = 15;

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

/** A writer on its own prefix, so tests in parallel never see each other's keys. */
function setup() {
  const prefix = `jw-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const queue = createArchiveQueue(redis, prefix);
  const writer = createJobWriter({ redis, queue, keys, retentionDays: () => RETENTION_DAYS });
  return { keys, queue, writer };
}

function job(idMessage: string, timestamp = 1_790_000_000): ArchiveJob {
  return {
    source: 'webhook',
    idInstance: '1101000001',
    kind: 'whatsapp',
    chatId: '79001234567@c.us',
    idMessage,
    timestamp,
    typeWebhook: 'incomingMessageReceived',
    typeMessage: 'documentMessage',
    tooLarge: false,
    message: keepMessage({ idMessage }),
    receivedAt: Date.now(),
  };
}

const idOf = (data: ArchiveJob) => archiveJobRequest(data, RETENTION_DAYS).opts.jobId;

describe('job writer (group commit)', () => {
  it('stores concurrent writes as one job each, with its deadline indexed', async () => {
    const { keys, queue, writer } = setup();
    const jobs = Array.from({ length: 40 }, (_, i) => job(`MSG${i}`, 1_790_000_000 + i));
    const results = await Promise.all(jobs.map((data) => writer.write(data)));

    expect(results.map((r) => r.outcome)).toEqual(jobs.map(() => 'accepted'));
    expect(results.map((r) => r.jobId)).toEqual(jobs.map(idOf));
    expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBe(40);
    for (const data of jobs) {
      expect(Number(await redis.zscore(keys.deadlines, idOf(data)))).toBe(
        deadlineOf(data.timestamp, RETENTION_DAYS),
      );
    }
    await queue.obliterate({ force: true });
  });

  it('reports the second of two identical concurrent writes as a duplicate', async () => {
    const { queue, writer } = setup();
    const [first, second] = await Promise.all([
      writer.write(job('SAME')),
      writer.write(job('SAME')),
    ]);

    expect([first?.outcome, second?.outcome]).toEqual(['accepted', 'duplicate']);
    expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBe(1);
    await queue.obliterate({ force: true });
  });

  it('reports a duplicate once when the same job is in two concurrent batches', async () => {
    const { queue, writer } = setup();
    // Redis holds back scripts for a moment, so the first batch is surely still in flight
    // when the second write comes: it goes out in a batch of its own.
    await redis.client('PAUSE', 200, 'WRITE');
    const first = writer.write(job('TWICE'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = writer.write(job('TWICE'));

    const outcomes = (await Promise.all([first, second])).map((r) => r.outcome);
    expect(outcomes).toEqual(['accepted', 'duplicate']);
    expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBe(1);
    await queue.obliterate({ force: true });
  });

  it('fails a write that waited on a failed write of the same job, so its caller retries', async () => {
    const prefix = `jw-${randomUUID().slice(0, 8)}`;
    const broken = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 0, lazyConnect: true });
    broken.disconnect(); // every command fails at once
    const queue = createArchiveQueue(redis, prefix);
    const writer = createJobWriter({
      redis: broken,
      queue,
      keys: redisKeys(prefix),
      retentionDays: () => RETENTION_DAYS,
    });
    const first = writer.write(job('FAILS'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = writer.write(job('FAILS'));

    const [a, b] = await Promise.allSettled([first, second]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    await queue.obliterate({ force: true });
  });

  it('treats a job that is already queued, or ended and removed, as a duplicate', async () => {
    const { keys, queue, writer } = setup();
    expect((await writer.write(job('QUEUED'))).outcome).toBe('accepted');
    const ended = job('ENDED');
    await markDone(redis, keys, idOf(ended), 'archived', Date.now() + 60_000);

    const again = await Promise.all([writer.write(job('QUEUED')), writer.write(ended)]);
    expect(again.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(await queue.getJobCountByTypes('prioritized', 'waiting')).toBe(1);
    // An ended job leaves no deadline behind to skew the SLO gauge.
    expect(await redis.zscore(keys.deadlines, idOf(ended))).toBeNull();
    await queue.obliterate({ force: true });
  });
});
