import { Redis } from 'ioredis';
import {
  createRecordJobWriter,
  createRecordQueue,
  createRedis,
  RECORD_QUEUE,
  storedRecordData,
  storedJobData,
} from '@archiver/core';
import { startRedis } from '@archiver/testkit';
import { jobFromHook, realisticWebhook, textRecordJob } from './lib/fixtures.js';
import { createBenchProducer } from './lib/producer.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { round } from './lib/stats.js';

const JOBS = 10_000;
const BUDGET_BYTES = 2048;
const TEXT_BUDGET_BYTES = 1024;

/**
 * Redis memory per queued archive job: INFO used_memory with the queue empty, then with
 * 10,000 jobs added through the receiver's job writer from ~1.5 KB webhooks (thumbnail
 * stripped, as the receiver stores them); and per queued text event, 10,000 record jobs of a
 * ~700-byte text webhook through the receiver's record writer. Each is measured with Redis'
 * default settings, then (for information) with hash-max-listpack-value raised, as compose
 * and `npm run dev` set it, so job hashes stay in the compact encoding.
 */
export async function benchRedisMemory(opts: BenchOptions): Promise<BenchOutput> {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  try {
    const defaults = await measure(redis.url, admin, 'bench-mem');
    await admin.flushall();
    await admin.config('SET', 'hash-max-listpack-value', '4096');
    const listpack = await measure(redis.url, admin, 'bench-mem-lp');
    await admin.flushall();
    await admin.config('SET', 'hash-max-listpack-value', '64');
    const texts = await measureTexts(redis.url, admin, 'bench-mem-text');
    await admin.flushall();
    await admin.config('SET', 'hash-max-listpack-value', '4096');
    const textsListpack = await measureTexts(redis.url, admin, 'bench-mem-text-lp');
    opts.log(
      `redis-memory: default ${round(defaults.perJob)} B/job ${JSON.stringify(defaults.breakdown)}; listpack ${round(listpack.perJob)} B/job; text events ${round(texts.perJob)} B/event ${JSON.stringify(texts.breakdown)}, listpack ${round(textsListpack.perJob)} B/event`,
    );
    return {
      rows: [
        {
          bench: 'redis-memory',
          metric: `used_memory per queued job (${JOBS.toLocaleString('en-US')} jobs)`,
          unit: 'B',
          archiver: Math.round(defaults.perJob),
          baseline: BUDGET_BYTES,
          ratio: round(defaults.perJob / BUDGET_BYTES),
          target: '≤ 2 KiB',
          pass: defaults.perJob <= BUDGET_BYTES,
          note: `delta over the empty queue; job hash ${defaults.breakdown.jobHash} B (job data JSON ${defaults.dataBytes} B, of which the kept webhook body ${defaults.messageBytes} B), events stream ${defaults.breakdown.eventsPerJob} B/job, priority + deadline zsets ${defaults.breakdown.zsetsPerJob} B/job, lost-job identities ${defaults.breakdown.identitiesPerJob} B/job`,
        },
        {
          bench: 'redis-memory',
          metric: 'the same with hash-max-listpack-value 4096',
          unit: 'B',
          archiver: Math.round(listpack.perJob),
          baseline: BUDGET_BYTES,
          ratio: round(listpack.perJob / BUDGET_BYTES),
          target: 'info',
          pass: true,
          note: `job hash ${listpack.breakdown.jobHash} B in listpack encoding`,
        },
        {
          bench: 'redis-memory',
          metric: `used_memory per queued text event (${JOBS.toLocaleString('en-US')} record jobs), Redis defaults`,
          unit: 'B',
          archiver: Math.round(texts.perJob),
          baseline: TEXT_BUDGET_BYTES,
          ratio: round(texts.perJob / TEXT_BUDGET_BYTES),
          target: '≤ 1 KiB',
          pass: texts.perJob <= TEXT_BUDGET_BYTES,
          note: `delta over the empty queue; job hash ${texts.breakdown.jobHash} B (job data JSON ${texts.dataBytes} B, of which the kept webhook body ${texts.messageBytes} B; the webhook as sent ${texts.webhookBytes} B), wait list ${texts.breakdown.waitPerJob} B/event, events stream ${texts.breakdown.eventsPerJob} B/event`,
        },
        {
          bench: 'redis-memory',
          metric: 'the same text events with hash-max-listpack-value 4096',
          unit: 'B',
          archiver: Math.round(textsListpack.perJob),
          baseline: TEXT_BUDGET_BYTES,
          ratio: round(textsListpack.perJob / TEXT_BUDGET_BYTES),
          target: 'info',
          pass: true,
          note: `job hash ${textsListpack.breakdown.jobHash} B in listpack encoding`,
        },
      ],
      details: { defaults, listpack, texts, textsListpack },
    };
  } finally {
    await admin.quit();
    await redis.stop();
  }
}

/** The k-th message of the run: 1,000 chats, an hour of timestamps. */
export function messageOf(k: number, now: number) {
  return {
    idInstance: '1101000001',
    chatId: `7900${String(k % 1000).padStart(7, '0')}@c.us`,
    idMessage: `BAE5${k.toString(16).toUpperCase().padStart(12, '0')}`,
    timestamp: now - (k % 3600),
  };
}

/** Through the writer 1,000 at a time, as bursts of webhooks arrive. */
async function queueAll<T>(jobs: T[], write: (job: T) => Promise<unknown>) {
  for (let k = 0; k < jobs.length; k += 1000) {
    await Promise.all(jobs.slice(k, k + 1000).map(write));
  }
}

async function measure(url: string, admin: Redis, prefix: string) {
  const producer = createBenchProducer(url, prefix);
  const { queue, writer } = producer;
  try {
    await producer.redis.ping();
    const before = await usedMemory(admin);
    const now = Math.floor(Date.now() / 1000);
    const jobs = Array.from({ length: JOBS }, (_, k) =>
      jobFromHook(realisticWebhook(messageOf(k, now))),
    );
    await queueAll(jobs, (j) => writer.write(j));
    const counts = await queue.getJobCounts('prioritized', 'waiting');
    const queued = (counts.prioritized ?? 0) + (counts.waiting ?? 0);
    if (queued !== JOBS) throw new Error(`expected ${JOBS} queued jobs, found ${queued}`);
    const after = await usedMemory(admin);
    return {
      before,
      after,
      perJob: (after.used - before.used) / JOBS,
      breakdown: await keyBreakdown(admin, prefix, JOBS),
      // What BullMQ stores: the facts stay in the kept body.
      dataBytes: Buffer.byteLength(JSON.stringify(jobs[0] && storedJobData(jobs[0]))),
      messageBytes: Buffer.byteLength(JSON.stringify(jobs[0]?.message)),
    };
  } finally {
    await producer.close();
  }
}

/** The same for text messages: record jobs queued through the receiver's record writer. */
async function measureTexts(url: string, admin: Redis, prefix: string) {
  const redis = createRedis(url, 'producer', { enableOfflineQueue: true });
  const queue = createRecordQueue(redis, prefix);
  const writer = createRecordJobWriter(queue);
  try {
    await redis.ping();
    const before = await usedMemory(admin);
    const now = Math.floor(Date.now() / 1000);
    const jobs = Array.from({ length: JOBS }, (_, k) => textRecordJob(messageOf(k, now)));
    await queueAll(jobs, (j) => writer.write(j));
    const queued = (await queue.getJobCounts('waiting')).waiting ?? 0;
    if (queued !== JOBS) throw new Error(`expected ${JOBS} queued text events, found ${queued}`);
    const after = await usedMemory(admin);
    const base = `${prefix}:${RECORD_QUEUE}`;
    const usage = async (key: string) =>
      Number((await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
    const [someJob] = await admin.lrange(`${base}:wait`, 0, 0);
    const first = jobs[0];
    return {
      before,
      after,
      perJob: (after.used - before.used) / JOBS,
      breakdown: {
        jobHash: someJob ? await usage(`${base}:${someJob}`) : 0,
        waitPerJob: Math.round((await usage(`${base}:wait`)) / JOBS),
        eventsPerJob: Math.round((await usage(`${base}:events`)) / JOBS),
      },
      dataBytes: Buffer.byteLength(JSON.stringify(first && storedRecordData(first))),
      messageBytes: Buffer.byteLength(JSON.stringify(first?.message)),
      webhookBytes: first?.received?.size ?? 0,
    };
  } finally {
    await queue.close();
    await redis.quit();
  }
}

async function usedMemory(redis: Redis) {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { used: field('used_memory'), dataset: field('used_memory_dataset') };
}

/** MEMORY USAGE of the structures a queued job lives in, to explain the total. */
async function keyBreakdown(redis: Redis, prefix: string, jobs: number) {
  const base = `${prefix}:archive`;
  const usage = async (key: string) =>
    Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const [someJob] = await redis.zrange(`${base}:prioritized`, 0, 0);
  const jobHash = someJob ? await usage(`${base}:${someJob}`) : 0;
  const events = await usage(`${base}:events`);
  const zsets = (await usage(`${base}:prioritized`)) + (await usage(`${base}:deadlines`));
  const identities = await usage(`${base}:identities`);
  return {
    jobHash,
    eventsPerJob: Math.round(events / jobs),
    zsetsPerJob: Math.round(zsets / jobs),
    identitiesPerJob: Math.round(identities / jobs),
  };
}
