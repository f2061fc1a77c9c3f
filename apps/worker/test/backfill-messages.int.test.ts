import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { BACKFILL_JOB, createBackfillQueue, type BackfillQueue } from '@archiver/core';
import { listAllKeys, s3ClientConfig, type JournalItem } from '@archiver/testkit';
import { WA, startPipeline, type Pipeline } from './harness.js';

let p: Pipeline;
let s3: S3Client;
let redis: Redis;
let queue: BackfillQueue;
const chatId = '79001234567@c.us';

beforeAll(async () => {
  p = await startPipeline({ BACKFILL_INTERVAL_MINUTES: '30', STATUSES_INTERVAL_MINUTES: '0' });
  s3 = new S3Client(s3ClientConfig(inject('s3')));
  redis = new Redis(p.config.redisUrl);
  queue = createBackfillQueue(redis, p.prefix);
  // The scheduler's run at start-up is over before the test lists anything.
  for (let i = 0; i < 200; i += 1) {
    const done = await queue.getJobs(['completed']);
    if (done.some((j) => j.id?.startsWith('repeat:'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(async () => {
  await queue?.close();
  await redis?.quit();
  await p?.close();
  s3?.destroy();
});

async function run(jobId: string) {
  const job = await queue.add(BACKFILL_JOB, { idInstance: WA.idInstance, minutes: 120 }, { jobId });
  for (let i = 0; i < 200; i += 1) {
    if ((await job.getState()) === 'completed') return (await queue.getJob(jobId))?.returnvalue;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`backfill run ${jobId} did not complete`);
}

async function recordKeys() {
  const keys = await listAllKeys(s3, inject('s3').bucket, `${p.prefix}/`);
  return keys.filter((k) => k.endsWith('/message.json'));
}

async function untilKeys(n: number) {
  for (let i = 0; i < 200; i += 1) {
    const keys = await recordKeys();
    if (keys.length >= n) return keys;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${n} records`);
}

describe("the journals' backfill finds missed messages of every type", () => {
  it('records a missed text, edit and deletion once, however often it runs', async () => {
    const t = Math.floor(Date.now() / 1000) - 600;
    const base = { chatId, senderId: chatId, senderName: 'Green API', type: 'incoming' as const };
    const items: JournalItem[] = [
      { ...base, idMessage: 'BF-T1', timestamp: t, typeMessage: 'textMessage', textMessage: 'hi' },
      {
        ...base,
        idMessage: 'BF-T2',
        timestamp: t + 1,
        typeMessage: 'textMessage',
        textMessage: 'x',
      },
      {
        ...base,
        idMessage: 'BF-E1',
        timestamp: t + 2,
        typeMessage: 'editedMessage',
        textMessage: 'hello',
      },
      { ...base, idMessage: 'BF-D1', timestamp: t + 3, typeMessage: 'deletedMessage' },
    ];
    for (const item of items) p.fake.addJournalMessage(WA.idInstance, item);

    const first = await run('first');
    expect(first).toMatchObject({ messagesFound: 4, messagesEnqueued: 4 });
    const keys = await untilKeys(4);
    expect(keys.map((k) => k.split('/').at(-2)).sort()).toEqual([
      'BF-D1',
      'BF-E1',
      'BF-T1',
      'BF-T2',
    ]);

    // Once written, the next runs queue nothing: the recorded index knows them.
    const second = await run('second');
    expect(second).toMatchObject({ messagesFound: 4, messagesEnqueued: 0, alreadyKnown: 4 });
    expect(await recordKeys()).toEqual(keys);
  });
});
