// Redis memory per queued text event, as the record queue stores it and as three other
// layouts would: the body in a key of its own, and the job trimmed (options without
// removeOnComplete, the kept body 40 or 110 bytes shorter). Each with Redis' defaults and
// with hash-max-listpack-value 4096. Not part of `pnpm bench` (no target): the measurement
// behind BENCHMARKS.md's text-event paragraph, on a real Redis through a real BullMQ queue.
//   node --conditions=@archiver/source --import tsx bench/src/micro/text-event-layouts.ts
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import {
  RECORD_JOB,
  RECORD_JOB_OPTIONS,
  recordJobId,
  recordJobRequest,
  storedRecordData,
  type RecordJobData,
} from '@archiver/core';
import { startRedis } from '@archiver/testkit';
import { textRecordJob } from '../lib/fixtures.js';
import { messageOf } from '../redis-memory.js';

const EVENTS = 10_000;

type Layout = {
  name: string;
  /** The job BullMQ stores, and what else goes into Redis beside it. */
  job(d: RecordJobData): { data: object; opts: JobsOptions; beside?: [string, string] };
};

const trimmed = (d: RecordJobData, bytes: number) => {
  const stored = storedRecordData(d);
  const { removeOnComplete: _, ...opts } = RECORD_JOB_OPTIONS;
  return {
    data: { ...stored, message: stored.message.slice(0, -bytes) },
    opts: { ...opts, jobId: recordJobId(d) },
  };
};

const LAYOUTS: Layout[] = [
  { name: 'as the record queue stores it', job: (d) => recordJobRequest(d) },
  {
    name: 'the body in a key of its own, the job naming it',
    job: (d) => {
      const { removeOnComplete: _, ...opts } = RECORD_JOB_OPTIONS;
      return {
        data: { body: 1 },
        opts: { ...opts, jobId: recordJobId(d) },
        beside: [`archiver:records:body:${recordJobId(d)}`, JSON.stringify(storedRecordData(d))],
      };
    },
  },
  { name: 'options trimmed, body 40 B shorter', job: (d) => trimmed(d, 40) },
  { name: 'options trimmed, body 110 B shorter', job: (d) => trimmed(d, 110) },
];

const now = Math.floor(Date.now() / 1000);
const events = Array.from({ length: EVENTS }, (_, k) => textRecordJob(messageOf(k, now)));

const redis = await startRedis();
const admin = new Redis(redis.url);
const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1]);
try {
  for (const layout of LAYOUTS) {
    const perEvent: string[] = [];
    for (const listpackValue of ['64', '4096']) {
      await admin.flushall();
      await admin.config('SET', 'hash-max-listpack-value', listpackValue);
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue('records', {
        connection,
        prefix: 'archiver',
        streams: { events: { maxLen: 1000 } },
      });
      await queue.waitUntilReady();
      const before = await usedMemory();
      for (let k = 0; k < EVENTS; k += 1000) {
        const jobs = events.slice(k, k + 1000).map((d) => layout.job(d));
        const pipeline = connection.pipeline();
        for (const j of jobs) if (j.beside) pipeline.set(...j.beside);
        await pipeline.exec();
        await queue.addBulk(jobs.map((j) => ({ name: RECORD_JOB, data: j.data, opts: j.opts })));
      }
      perEvent.push(`${Math.round(((await usedMemory()) - before) / EVENTS)} B`);
      await queue.close();
      await connection.quit();
    }
    console.log(
      `${layout.name}: ${perEvent[0]} on Redis' defaults, ${perEvent[1]} with listpack 4096`,
    );
  }
} finally {
  await admin.quit();
  await redis.stop();
}
