import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, loadConfig } from '@archiver/core';
import {
  s3ClientConfig,
  startFakeGreenApi,
  startRedis,
  startS3,
  type FakeGreenApi,
} from '@archiver/testkit';
import { benchInstances, fileJob } from './lib/fixtures.js';
import { startWorker } from '@archiver/worker';
import { createBenchProducer } from './lib/producer.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { round } from './lib/stats.js';

const BUDGET = 5; // WhatsApp's documented downloadFile budget, the archiver's default

/**
 * Three WhatsApp instances with a backlog each: downloadFile calls/s per instance against its
 * budget (the fake Green-API enforces the same budget and answers 429 above it). Then one
 * instance is throttled by the fake to 1 rps (the archiver still believes 5): the other two
 * must keep their rate.
 */
export async function benchRateLimits(opts: BenchOptions): Promise<BenchOutput> {
  const windowMs = opts.quick ? 5000 : 10_000;
  const settleMs = 2000;
  const perInstance = Math.ceil(BUDGET * ((2 * (windowMs + settleMs)) / 1000 + 6));
  const redis = await startRedis();
  const s3 = await startS3();
  const fake = await startFakeGreenApi();
  const instances = benchInstances(3);
  for (const i of instances) fake.addInstance({ ...i, rps: BUDGET });
  const prefix = 'bench-rate';
  const config = loadConfig(
    {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      GREEN_API_INSTANCES: JSON.stringify(instances.map((i) => ({ ...i, apiUrl: fake.url }))),
      S3_BUCKET: s3.bucket,
      S3_PREFIX: `${prefix}/`,
      S3_ENDPOINT: s3.endpoint,
      WORKER_CONCURRENCY: '16',
      BACKFILL_INTERVAL_MINUTES: '0',
    },
    'worker',
  );
  const producer = createBenchProducer(redis.url, prefix);
  const { queue, writer } = producer;
  const logger = createLogger({ level: 'silent', name: 'bench' });
  try {
    const writes = [];
    for (let k = 0; k < perInstance; k += 1) {
      for (const i of instances) {
        const job = fileJob(fake, {
          idInstance: i.idInstance,
          chatId: '79001234567@c.us',
          idMessage: `RATE${i.idInstance}-${k}`,
          size: 1024,
        });
        writes.push(writer.write(job.data));
      }
    }
    await Promise.all(writes);
    fake.clearCalls();
    const worker = await startWorker(config, logger, { port: 0, s3: s3ClientConfig(s3) });
    try {
      await sleep(settleMs);
      const free = await measure(fake, windowMs);
      const throttled = instances[2]?.idInstance ?? '';
      fake.throttleInstance(throttled, 1);
      await sleep(settleMs);
      const oneThrottled = await measure(fake, windowMs);
      const others = instances.slice(0, 2).map((i) => i.idInstance);
      const mean = (m: Measured, ids: string[]) =>
        ids.reduce((s, id) => s + (m.rate[id] ?? 0), 0) / ids.length;
      const perInstanceRates = instances.map((i) => free.rate[i.idInstance] ?? 0);
      const minRate = Math.min(...perInstanceRates);
      const othersBefore = mean(free, others);
      const othersAfter = mean(oneThrottled, others);
      const leftBehind = await queue.getJobCounts('prioritized', 'waiting', 'delayed', 'active');
      opts.log(`rate-limits: free ${JSON.stringify(free.perSecond)}, 429s ${free.tooMany}`);
      opts.log(
        `rate-limits: one throttled ${JSON.stringify(oneThrottled.perSecond)}, 429s ${JSON.stringify(oneThrottled.tooManyBy)}`,
      );
      opts.log(
        `rate-limits: backlog left ${JSON.stringify(leftBehind)}, 429s during settling ${fake.count('downloadFile', { status: 429 }) - oneThrottled.tooMany}`,
      );
      return {
        rows: [
          {
            bench: 'rate-limits',
            metric: `downloadFile/s per instance, 3 backlogged (slowest of 3, ${windowMs / 1000} s)`,
            unit: 'rps',
            archiver: round(minRate),
            baseline: BUDGET,
            ratio: round(minRate / BUDGET),
            target: '≥ 0.95×, 0 × 429',
            pass: minRate / BUDGET >= 0.95 && free.tooMany === 0,
            note: `per instance ${perInstanceRates.map((r) => round(r)).join(' / ')} rps; ${free.tooMany} × 429`,
          },
          {
            bench: 'rate-limits',
            metric: 'other instances\u2019 rate, one throttled to 1 rps vs none',
            unit: 'rps',
            archiver: round(othersAfter),
            baseline: round(othersBefore),
            ratio: round(othersAfter / othersBefore),
            target: '≈ 1.0× (≥ 0.95)',
            pass: othersAfter / othersBefore >= 0.95 && othersAfter / othersBefore <= 1.05,
            note: `throttled instance: ${round(oneThrottled.rate[throttled] ?? 0)} rps served, ${oneThrottled.tooManyBy[throttled] ?? 0} × 429 (expected: it is over its real budget)`,
          },
        ],
        details: { windowMs, perInstance, free, oneThrottled, leftBehind },
      };
    } finally {
      await worker.stop();
    }
  } finally {
    await producer.close();
    await fake.close();
    await s3.stop();
    await redis.stop();
  }
}

type Measured = {
  rate: Record<string, number>;
  tooMany: number;
  tooManyBy: Record<string, number>;
  /** 200s per instance in each second of the window, to show steadiness. */
  perSecond: Record<string, number[]>;
};

/** downloadFile answers per instance in the next `windowMs` (200s per second, and all 429s). */
async function measure(fake: FakeGreenApi, windowMs: number): Promise<Measured> {
  const from = Date.now();
  await sleep(windowMs);
  const to = Date.now();
  const calls = fake.calls.filter((c) => c.method === 'downloadFile' && c.at >= from && c.at < to);
  const rate: Record<string, number> = {};
  const tooManyBy: Record<string, number> = {};
  const perSecond: Record<string, number[]> = {};
  for (const c of calls) {
    if (c.status === 200) {
      rate[c.idInstance] = (rate[c.idInstance] ?? 0) + 1000 / (to - from);
      const buckets = (perSecond[c.idInstance] ??= Array.from(
        { length: Math.ceil((to - from) / 1000) },
        () => 0,
      ));
      const i = Math.floor((c.at - from) / 1000);
      buckets[i] = (buckets[i] ?? 0) + 1;
    }
    if (c.status === 429) tooManyBy[c.idInstance] = (tooManyBy[c.idInstance] ?? 0) + 1;
  }
  return {
    rate,
    tooMany: Object.values(tooManyBy).reduce((a, b) => a + b, 0),
    tooManyBy,
    perSecond,
  };
}
