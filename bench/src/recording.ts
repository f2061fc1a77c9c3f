import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRecordQueue,
  createRedis,
  recordJobRequest,
  type RecordJobData,
  type RecordQueue,
} from '@archiver/core';
import { startFakeGreenApi, startRedis, startS3 } from '@archiver/testkit';
import { ownCpuMs, processCpuMs } from './lib/cpu.js';
import { benchInstances, recordObject, textRecordJob, type BenchInstance } from './lib/fixtures.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { spawnApp, spawnSource } from './lib/spawn.js';
import { listRatios, median, round, roundRatios, waitForCompleted } from './lib/stats.js';
import { workerEnv } from './lib/worker-env.js';

const CONCURRENCY = 16;
const INSTANCES = 4;
const CHATS = 97;
const WARMUP_EVENTS = 2000;
const ROUNDS = 5;

type Run = { rate: number; cpuUsPerEvent: number; servicesCpuUsPerEvent: number };

/**
 * Text events/s recorded to S3 by one worker process taking record jobs from Redis, against a
 * plain script making the same PUTs (the same keys' shape, bytes, checksum and condition) at
 * the same concurrency with no queue. Both run as their own process against the same S3
 * (s3rver, in this process); the worker writes as on a store with conditional writes and
 * enters every record in the custody log, as deployed.
 *
 * Rounds as in the pipeline benchmark: each runs the script and the worker back to back on its
 * own share of the events, in alternating order; the verdict is the median of the rounds'
 * ratios. Jobs are queued as the receiver queues them, except that completed jobs are kept:
 * their processedOn/finishedOn time the run from the first job taken to the last one done
 * (the worker's start-up is not counted, as the script's is not).
 */
export async function benchRecording(opts: BenchOptions): Promise<BenchOutput> {
  const n = opts.files ?? (opts.quick ? 2000 : 20_000);
  const redis = await startRedis();
  const s3 = await startS3();
  // The worker checks its instances at start; nothing here calls Green-API while recording.
  const fake = await startFakeGreenApi();
  const instances = benchInstances(INSTANCES);
  for (const i of instances) fake.addInstance(i);
  const tmp = mkdtempSync(join(tmpdir(), 'archiver-bench-'));
  try {
    opts.log(`recording: preparing ${n} text events`);
    const now = Math.floor(Date.now() / 1000);
    const events = Array.from({ length: n + WARMUP_EVENTS }, (_, k) =>
      textRecordJob({
        idInstance: (instances[k % INSTANCES] as BenchInstance).idInstance,
        chatId: `7900${String(k % CHATS).padStart(7, '0')}@c.us`,
        idMessage: `BENCHTXT${k.toString(16).toUpperCase().padStart(8, '0')}`,
        timestamp: now - (n - k),
      }),
    );

    let baselineRuns = 0;
    const runBaseline = async (from: number, to: number): Promise<Run> => {
      baselineRuns += 1;
      const prefix = `baseline-${baselineRuns}/`;
      const tasksFile = join(tmp, `tasks-${baselineRuns}.json`);
      writeFileSync(
        tasksFile,
        JSON.stringify(events.slice(from, to).map((d) => recordObject(prefix, d))),
      );
      const servicesCpu = ownCpuMs();
      const proc = spawnSource('bench/src/procs/recording-baseline.ts', {
        BASELINE_TASKS: tasksFile,
        BASELINE_S3: JSON.stringify(s3.connection),
        BASELINE_CONCURRENCY: String(CONCURRENCY),
      });
      const line = await proc.waitForLine('baseline done', 30 * 60_000);
      const servicesCpuMs = ownCpuMs() - servicesCpu;
      await proc.exited;
      const done = JSON.parse(line) as {
        started: number;
        ended: number;
        failed: number;
        cpuMs: number;
      };
      if (done.failed > 0) throw new Error(`baseline: ${done.failed} records failed`);
      const count = to - from;
      return {
        rate: count / ((done.ended - done.started) / 1000),
        cpuUsPerEvent: (done.cpuMs * 1000) / count,
        servicesCpuUsPerEvent: (servicesCpuMs * 1000) / count,
      };
    };

    let workerRuns = 0;
    const runWorker = async (from: number, to: number): Promise<Run> => {
      workerRuns += 1;
      const prefix = `bench-recording-${workerRuns}`;
      const count = to - from;
      const connection = createRedis(redis.url, 'producer', { enableOfflineQueue: true });
      const queue = createRecordQueue(connection, prefix);
      try {
        await queueEvents(queue, events.slice(from, to));
        const servicesCpu = ownCpuMs();
        const worker = spawnApp(
          'worker',
          workerEnv({
            redisUrl: redis.url,
            prefix,
            s3: s3.connection,
            fakeUrl: fake.url,
            instances,
            extra: {
              WORKER_CONCURRENCY: String(CONCURRENCY),
              // As in the pipeline benchmark: one PUT per record, as on AWS S3 and MinIO.
              S3_CONDITIONAL_WRITES: 'true',
              STATUSES_INTERVAL_MINUTES: '0',
              INSTANCE_CHECK_INTERVAL_MINUTES: '0',
            },
          }),
        );
        try {
          await waitForCompleted(queue, count, worker);
          const { first, last } = await processedSpan(queue);
          const servicesCpuMs = ownCpuMs() - servicesCpu;
          const cpuMs = processCpuMs(worker.pid);
          return {
            rate: count / ((last - first) / 1000),
            cpuUsPerEvent: (cpuMs * 1000) / count,
            servicesCpuUsPerEvent: (servicesCpuMs * 1000) / count,
          };
        } finally {
          await worker.stop();
        }
      } finally {
        await queue.close();
        await connection.quit();
      }
    };

    // s3rver runs in this process: an unmeasured run warms it (JIT, file system) first.
    opts.log(`recording: warm-up (${WARMUP_EVENTS} events, not measured)`);
    await runBaseline(n, n + WARMUP_EVENTS);
    const rounds: Array<{ baseline: Run; worker: Run }> = [];
    const perRound = Math.ceil(n / ROUNDS);
    for (let r = 0; r < ROUNDS; r += 1) {
      const [from, to] = [r * perRound, Math.min(n, (r + 1) * perRound)];
      // Each goes first in every other round, so neither always runs on a warmer machine.
      let baseline: Run;
      let worker: Run;
      if (r % 2 === 0) {
        baseline = await runBaseline(from, to);
        worker = await runWorker(from, to);
      } else {
        worker = await runWorker(from, to);
        baseline = await runBaseline(from, to);
      }
      rounds.push({ baseline, worker });
      opts.log(
        `recording: round ${r + 1}: ${to - from} events each; baseline ${Math.round(baseline.rate)} events/s (${Math.round(baseline.cpuUsPerEvent)} µs CPU/event), worker ${Math.round(worker.rate)} events/s (${Math.round(worker.cpuUsPerEvent)} µs CPU/event); S3 process ${Math.round(baseline.servicesCpuUsPerEvent)} vs ${Math.round(worker.servicesCpuUsPerEvent)} µs/event: ${round(worker.rate / baseline.rate)}×`,
      );
    }
    const ratios = roundRatios(
      rounds.map((x) => x.worker.rate),
      rounds.map((x) => x.baseline.rate),
    );
    const ratio = median(ratios);
    const cpuRatios = roundRatios(
      rounds.map((x) => x.worker.cpuUsPerEvent),
      rounds.map((x) => x.baseline.cpuUsPerEvent),
    );
    return {
      rows: [
        {
          bench: 'recording',
          metric: `${n} text events, concurrency ${CONCURRENCY}, one worker vs plain script, same PUTs`,
          unit: 'events/s',
          archiver: Math.round(median(rounds.map((x) => x.worker.rate))),
          baseline: Math.round(median(rounds.map((x) => x.baseline.rate))),
          ratio: round(ratio),
          target: '≥ 0.8×',
          pass: ratio >= 0.8,
          note: `baseline: one PutObject of the same record bytes per event (CRC32, If-None-Match), no queue, Redis or custody log; ${ROUNDS} rounds of ${perRound} events, back to back in alternating order; ratio = median of the rounds' ratios (${listRatios(ratios)}); events/s = each side's median`,
        },
        {
          bench: 'recording',
          metric: 'CPU per event, worker process vs baseline script',
          unit: 'µs',
          archiver: Math.round(median(rounds.map((x) => x.worker.cpuUsPerEvent))),
          baseline: Math.round(median(rounds.map((x) => x.baseline.cpuUsPerEvent))),
          ratio: round(median(cpuRatios)),
          target: 'info',
          pass: true,
          note: `user + system time of the process, including its start; Redis and S3 not counted; rounds: ${listRatios(cpuRatios)}`,
        },
      ],
      details: { events: n, concurrency: CONCURRENCY, instances: INSTANCES, rounds },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await fake.close();
    await s3.stop();
    await redis.stop();
  }
}

/**
 * Queues the events as the receiver's record writer does (recordJobRequest), in bulk, but
 * keeping completed jobs so that the run can be timed by them.
 */
async function queueEvents(queue: RecordQueue, events: RecordJobData[]): Promise<void> {
  for (let k = 0; k < events.length; k += 2000) {
    await queue.addBulk(
      events.slice(k, k + 2000).map((d) => {
        const request = recordJobRequest(d);
        return { ...request, opts: { ...request.opts, removeOnComplete: false } };
      }),
    );
  }
}

/** From the first job the worker took to the last it finished (the worker's clock, this host's). */
async function processedSpan(queue: RecordQueue): Promise<{ first: number; last: number }> {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let start = 0; ; start += 1000) {
    const jobs = await queue.getCompleted(start, start + 999);
    for (const job of jobs) {
      if (job.processedOn !== undefined) first = Math.min(first, job.processedOn);
      if (job.finishedOn !== undefined) last = Math.max(last, job.finishedOn);
    }
    if (jobs.length < 1000) break;
  }
  if (!Number.isFinite(first) || last === 0) throw new Error('no completed job to time the run by');
  return { first, last };
}
