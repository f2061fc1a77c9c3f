import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  archiverKeys,
  createArchiveQueue,
  createJobWriter,
  createRedis,
  type ArchiveJobData,
} from '@archiver/core';
import { startFakeGreenApi, startRedis, startS3, type FakeGreenApi } from '@archiver/testkit';
import { benchInstances, fileJob, type BenchInstance } from './lib/fixtures.js';
import type { BenchOptions, BenchOutput, BenchRow } from './lib/result.js';
import { spawnSource } from './lib/spawn.js';
import { round, waitUntil } from './lib/stats.js';
import { workerEnv } from './lib/worker-env.js';

const CONCURRENCY = 16;
const INSTANCES = 4;
const LIFTED_RPS = 1_000_000;

/**
 * Files/s of the whole archive pipeline (a worker process taking jobs from Redis) against a plain
 * script doing the same downloadFile → GET → PutObject at the same concurrency without the
 * queue, on small files with the rate limits lifted. Both run as their own process against the
 * same fake Green-API and S3 (s3rver, in this process).
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
    const tasksFile = join(tmp, 'tasks.json');
    writeFileSync(
      tasksFile,
      JSON.stringify(
        files.map((f) => ({
          idInstance: f.instance.idInstance,
          apiTokenInstance: f.instance.apiTokenInstance,
          chatId: f.data.chatId,
          idMessage: f.data.idMessage,
        })),
      ),
    );

    const runBaseline = async (mode: 'plain' | 'same-s3') => {
      fake.clearCalls();
      const proc = spawnSource('bench/src/procs/pipeline-baseline.ts', {
        BASELINE_TASKS: tasksFile,
        BASELINE_S3: JSON.stringify(s3Connection(s3)),
        BASELINE_PREFIX: `baseline-${mode}`,
        BASELINE_CONCURRENCY: String(CONCURRENCY),
        BASELINE_MODE: mode,
        BASELINE_API_URL: fake.url,
      });
      const line = await proc.waitForLine('baseline done', 30 * 60_000);
      await proc.exited;
      const done = JSON.parse(line) as { ended: number; failed: number };
      if (done.failed > 0) throw new Error(`baseline (${mode}): ${done.failed} files failed`);
      const seconds = (done.ended - firstDownloadAt(fake)) / 1000;
      opts.log(`pipeline: baseline ${mode}: ${n} files in ${round(seconds)} s`);
      return n / seconds;
    };

    const runWorker = async () => {
      const prefix = 'bench-pipeline';
      const producer = createRedis(redis.url, 'producer', { enableOfflineQueue: true });
      const queue = createArchiveQueue(producer, prefix);
      const writer = createJobWriter({
        redis: producer,
        queue,
        keys: archiverKeys(prefix),
        retentionDays: () => 15,
      });
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
            s3: s3Connection(s3),
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
          opts.log(`pipeline: worker: ${n} files in ${round(seconds)} s`);
          return n / seconds;
        } finally {
          await worker.stop();
        }
      } finally {
        await queue.close();
        await producer.quit();
      }
    };

    const plain = await runBaseline('plain');
    const archiver = await runWorker();
    const sameS3 = await runBaseline('same-s3');
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
        row(plain, `${n} small files, concurrency ${CONCURRENCY} vs plain script`, '≥ 0.8×', 0.8),
        {
          ...row(sameS3, 'vs script with the same 3 S3 requests per file', 'info', 0),
          note: 'baseline also GETs a sidecar and PUTs one, as the worker does: isolates queue/limiter cost from S3 cost',
        },
      ],
      details: {
        files: n,
        concurrency: CONCURRENCY,
        instances: INSTANCES,
        plain,
        sameS3,
        archiver,
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

function s3Connection(s3: Awaited<ReturnType<typeof startS3>>) {
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    bucket: s3.bucket,
  };
}
