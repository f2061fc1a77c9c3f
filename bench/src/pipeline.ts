import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeptMessage, type ArchiveJobData } from '@archiver/core';
import { startFakeGreenApi, startRedis, startS3, type FakeGreenApi } from '@archiver/testkit';
import { benchInstances, fileJob, type BenchInstance } from './lib/fixtures.js';
import { processCpuMs } from './lib/cpu.js';
import { createBenchProducer } from './lib/producer.js';
import type { BenchOptions, BenchOutput, BenchRow } from './lib/result.js';
import { spawnSource } from './lib/spawn.js';
import { round, waitUntil } from './lib/stats.js';
import { workerEnv } from './lib/worker-env.js';

const CONCURRENCY = 16;
const INSTANCES = 4;
const LIFTED_RPS = 1_000_000;
const WARMUP_FILES = 1500;

/**
 * Files/s of the whole archive pipeline (a worker process taking jobs from Redis) against a plain
 * script doing the same I/O (downloadFile → GET → PutObject the file → PutObject the sidecar)
 * at the same concurrency without the queue, on small files with the rate limits lifted. A
 * second script without the sidecar shows what the sidecar costs on this S3. All run as their
 * own process against the same fake Green-API and S3 (s3rver, in this process).
 */
export async function benchPipeline(opts: BenchOptions): Promise<BenchOutput> {
  const n = opts.files ?? (opts.quick ? 2000 : 20_000);
  const redis = await startRedis();
  const s3 = await startS3();
  const fake = await startFakeGreenApi();
  const instances = benchInstances(INSTANCES);
  for (const i of instances) fake.addInstance({ ...i, rps: LIFTED_RPS });
  const tmp = mkdtempSync(join(tmpdir(), 'archiver-bench-'));
  try {
    opts.log(`pipeline: preparing ${n} files`);
    const files = Array.from({ length: n }, (_, k) => {
      const instance = instances[k % INSTANCES] as BenchInstance;
      return {
        instance,
        ...fileJob(fake, {
          idInstance: instance.idInstance,
          chatId: `7900${String(k % 97).padStart(7, '0')}@c.us`,
          idMessage: `BENCH${k.toString(16).toUpperCase().padStart(8, '0')}`,
          // 2–16 KiB: "small files" with some spread.
          size: 2048 + ((k * 7919) % (14 * 1024)),
        }),
      };
    });
    const tasks = files.map((f) => ({
      idInstance: f.instance.idInstance,
      apiTokenInstance: f.instance.apiTokenInstance,
      chatId: f.data.chatId,
      idMessage: f.data.idMessage,
      // The body the worker's sidecar carries, so the script writes the same bytes.
      message: readKeptMessage(f.data.message),
    }));
    const tasksFile = join(tmp, 'tasks.json');
    writeFileSync(tasksFile, JSON.stringify(tasks));
    // s3rver and the fake Green-API run in this process: a first, unmeasured run warms them up
    // (JIT, file system), or whichever phase comes first pays for it.
    const warmupFile = join(tmp, 'warmup.json');
    writeFileSync(warmupFile, JSON.stringify(tasks.slice(0, WARMUP_FILES)));

    let baselineRuns = 0;
    const runBaseline = async (mode: 'same-io' | 'file-only', file = tasksFile, count = n) => {
      fake.clearCalls();
      baselineRuns += 1;
      const proc = spawnSource('bench/src/procs/pipeline-baseline.ts', {
        BASELINE_TASKS: file,
        BASELINE_S3: JSON.stringify(s3.connection),
        BASELINE_PREFIX: `baseline-${baselineRuns}-${mode}`,
        BASELINE_CONCURRENCY: String(CONCURRENCY),
        BASELINE_MODE: mode,
        BASELINE_API_URL: fake.url,
      });
      const line = await proc.waitForLine('baseline done', 30 * 60_000);
      await proc.exited;
      const done = JSON.parse(line) as { ended: number; failed: number; cpuMs: number };
      if (done.failed > 0) throw new Error(`baseline (${mode}): ${done.failed} files failed`);
      const seconds = (done.ended - firstDownloadAt(fake)) / 1000;
      opts.log(
        `pipeline: baseline ${mode}: ${count} files in ${round(seconds)} s, ${round((done.cpuMs * 1000) / count)} µs CPU per file`,
      );
      return { rate: count / seconds, cpuUsPerFile: (done.cpuMs * 1000) / count };
    };

    const runWorker = async () => {
      const prefix = 'bench-pipeline';
      const producer = createBenchProducer(redis.url, prefix);
      const { queue, writer } = producer;
      try {
        opts.log(`pipeline: queueing ${n} jobs`);
        for (let k = 0; k < n; k += 2000) {
          await Promise.all(
            files.slice(k, k + 2000).map((f) => writer.write(f.data as ArchiveJobData)),
          );
        }
        fake.clearCalls();
        const worker = spawnSource(
          'apps/worker/src/main.ts',
          workerEnv({
            redisUrl: redis.url,
            prefix,
            s3: s3.connection,
            fakeUrl: fake.url,
            instances,
            extra: { WORKER_CONCURRENCY: String(CONCURRENCY), DOWNLOAD_RPS: String(LIFTED_RPS) },
          }),
        );
        try {
          let last = 0;
          await waitUntil(
            async () => {
              const counts = await queue.getJobCounts('completed', 'failed');
              if ((counts.failed ?? 0) > 0) {
                throw new Error(`${counts.failed} jobs failed:\n${worker.output()}`);
              }
              last = counts.completed ?? 0;
              return last >= n;
            },
            {
              timeoutMs: 60 * 60_000,
              intervalMs: 20,
              what: `worker to complete ${n} jobs (at ${last})`,
            },
          );
          const seconds = (Date.now() - firstDownloadAt(fake)) / 1000;
          const cpuMs = processCpuMs(worker.pid);
          opts.log(
            `pipeline: worker: ${n} files in ${round(seconds)} s, ${round((cpuMs * 1000) / n)} µs CPU per file`,
          );
          return { rate: n / seconds, cpuUsPerFile: (cpuMs * 1000) / n };
        } finally {
          await worker.stop();
        }
      } finally {
        await producer.close();
      }
    };

    // Baseline before and after the worker: the machine's speed drifts over minutes, and the
    // mean of the two brackets the worker's run.
    opts.log(`pipeline: warm-up (${WARMUP_FILES} files, not measured)`);
    await runBaseline('same-io', warmupFile, WARMUP_FILES);
    const before = await runBaseline('same-io');
    const worker = await runWorker();
    const after = await runBaseline('same-io');
    const fileOnly = (await runBaseline('file-only')).rate;
    const sameIo = (before.rate + after.rate) / 2;
    const sameIoCpuUsPerFile = (before.cpuUsPerFile + after.cpuUsPerFile) / 2;
    const archiver = worker.rate;
    const row = (
      baseline: number,
      metric: string,
      target: string,
      threshold: number,
    ): BenchRow => ({
      bench: 'pipeline',
      metric,
      unit: 'files/s',
      archiver: Math.round(archiver),
      baseline: Math.round(baseline),
      ratio: round(archiver / baseline),
      target,
      pass: archiver / baseline >= threshold,
    });
    return {
      rows: [
        {
          ...row(
            sameIo,
            `${n} small files, concurrency ${CONCURRENCY}, vs plain script, same I/O`,
            '≥ 0.8×',
            0.8,
          ),
          note: `baseline: downloadFile → GET → PUT file → PUT sidecar (CRC32 checksums) per file, as the worker, no queue or limiter; mean of a run before (${Math.round(before.rate)}/s) and after (${Math.round(after.rate)}/s) the worker`,
        },
        {
          bench: 'pipeline',
          metric: 'CPU per file, worker process vs baseline script',
          unit: 'µs',
          archiver: Math.round(worker.cpuUsPerFile),
          baseline: Math.round(sameIoCpuUsPerFile),
          ratio: round(worker.cpuUsPerFile / sameIoCpuUsPerFile),
          target: 'info',
          pass: true,
          note: 'user + system time of the process, including its start; Redis and S3 not counted',
        },
        {
          ...row(fileOnly, 'vs a script that writes no sidecar', 'info', 0),
          note: 'one S3 request per file instead of two: what the sidecar costs on this S3',
        },
      ],
      details: {
        files: n,
        concurrency: CONCURRENCY,
        instances: INSTANCES,
        before,
        after,
        worker,
        fileOnly,
      },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await fake.close();
    await s3.stop();
    await redis.stop();
  }
}

function firstDownloadAt(fake: FakeGreenApi): number {
  const first = fake.calls.find((c) => c.method === 'downloadFile');
  if (!first) throw new Error('no downloadFile call recorded');
  return first.at;
}
