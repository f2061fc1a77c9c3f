import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeptMessage, type ArchiveJob, type ArchiveQueue } from '@archiver/core';
import { startFakeGreenApi, startRedis, startS3, type FakeGreenApi } from '@archiver/testkit';
import { benchInstances, fileJob, type BenchInstance } from './lib/fixtures.js';
import { ownCpuMs, processCpuMs } from './lib/cpu.js';
import { createBenchProducer } from './lib/producer.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { spawnApp, spawnSource } from './lib/spawn.js';
import { listRatios, median, round, roundRatios, waitForCompleted } from './lib/stats.js';
import { workerEnv } from './lib/worker-env.js';

const CONCURRENCY = 16;
const INSTANCES = 4;
const LIFTED_RPS = 1_000_000;
const WARMUP_FILES = 1500;
const ROUNDS = 5;

/**
 * Files/s of the whole archive pipeline (a worker process taking jobs from Redis) against a plain
 * script doing the same I/O (downloadFile → GET → PutObject the file → PutObject the sidecar)
 * at the same concurrency without the queue, on small files with the rate limits lifted. A
 * second script without the sidecar shows what the sidecar costs on this S3. All run as their
 * own process against the same fake Green-API and S3 (s3rver, in this process).
 *
 * The files are split into rounds; each round runs the script and the worker back to back on
 * their own share, in alternating order, and the verdict is the median of the rounds' ratios.
 * This machine's speed drifts by a fifth within minutes: two runs minutes apart compare the
 * drift more than the code, two runs seconds apart mostly do not.
 *
 * The worker writes its records as on a store with conditional writes (one PUT each), as the
 * script does; `BENCH_WORKER_ENV='{"S3_CONDITIONAL_WRITES":"auto"}'` measures s3rver's
 * read-before-write instead.
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
    const writeTasks = (name: string, from: number, to: number) => {
      const file = join(tmp, `${name}.json`);
      writeFileSync(file, JSON.stringify(tasks.slice(from, to)));
      return file;
    };

    let baselineRuns = 0;
    const runBaseline = async (mode: 'same-io' | 'file-only', from: number, to: number) => {
      fake.clearCalls();
      baselineRuns += 1;
      const count = to - from;
      const tasksFile = writeTasks(`tasks-${baselineRuns}`, from, to);
      const servicesCpu = ownCpuMs();
      const proc = spawnSource('bench/src/procs/pipeline-baseline.ts', {
        BASELINE_TASKS: tasksFile,
        BASELINE_S3: JSON.stringify(s3.connection),
        BASELINE_PREFIX: `baseline-${baselineRuns}-${mode}`,
        BASELINE_CONCURRENCY: String(CONCURRENCY),
        BASELINE_MODE: mode,
        BASELINE_API_URL: fake.url,
      });
      const line = await proc.waitForLine('baseline done', 30 * 60_000);
      const servicesCpuMs = ownCpuMs() - servicesCpu;
      await proc.exited;
      const done = JSON.parse(line) as { ended: number; failed: number; cpuMs: number };
      if (done.failed > 0) throw new Error(`baseline (${mode}): ${done.failed} files failed`);
      const seconds = (done.ended - firstDownloadAt(fake)) / 1000;
      return {
        rate: count / seconds,
        cpuUsPerFile: (done.cpuMs * 1000) / count,
        servicesCpuUsPerFile: (servicesCpuMs * 1000) / count,
      };
    };

    let workerRuns = 0;
    const runWorker = async (from: number, to: number) => {
      workerRuns += 1;
      const prefix = `bench-pipeline-${workerRuns}`;
      const count = to - from;
      const producer = createBenchProducer(redis.url, prefix);
      const { queue, writer } = producer;
      try {
        for (let k = from; k < to; k += 2000) {
          await Promise.all(
            files.slice(k, Math.min(k + 2000, to)).map((f) => writer.write(f.data as ArchiveJob)),
          );
        }
        fake.clearCalls();
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
              DOWNLOAD_RPS: String(LIFTED_RPS),
              // The requests of AWS S3 and MinIO, which refuse to overwrite a record
              // themselves. s3rver ignores the header, and left to detect that the worker
              // would read each record before writing it: one GET per file that no
              // production store costs (BENCHMARKS.md, "What the write-once record costs").
              S3_CONDITIONAL_WRITES: 'true',
            },
          }),
        );
        try {
          await waitForCompleted(queue, count, worker);
          const seconds = ((await lastFinishedAt(queue)) - firstDownloadAt(fake)) / 1000;
          const servicesCpuMs = ownCpuMs() - servicesCpu;
          const cpuMs = processCpuMs(worker.pid);
          return {
            rate: count / seconds,
            cpuUsPerFile: (cpuMs * 1000) / count,
            servicesCpuUsPerFile: (servicesCpuMs * 1000) / count,
          };
        } finally {
          await worker.stop();
        }
      } finally {
        await producer.close();
      }
    };

    // s3rver and the fake Green-API run in this process: a first, unmeasured run warms them up
    // (JIT, file system), or whichever phase comes first pays for it.
    opts.log(`pipeline: warm-up (${WARMUP_FILES} files, not measured)`);
    await runBaseline('same-io', 0, Math.min(WARMUP_FILES, n));
    type Run = { rate: number; cpuUsPerFile: number; servicesCpuUsPerFile: number };
    const rounds: Array<{ baseline: Run; worker: Run }> = [];
    const perRound = Math.ceil(n / ROUNDS);
    for (let r = 0; r < ROUNDS; r += 1) {
      const [from, to] = [r * perRound, Math.min(n, (r + 1) * perRound)];
      // Each goes first in every other round, so neither always runs on a warmer machine.
      let baseline: Run;
      let worker: Run;
      if (r % 2 === 0) {
        baseline = await runBaseline('same-io', from, to);
        worker = await runWorker(from, to);
      } else {
        worker = await runWorker(from, to);
        baseline = await runBaseline('same-io', from, to);
      }
      rounds.push({ baseline, worker });
      opts.log(
        `pipeline: round ${r + 1}: ${to - from} files each; baseline ${Math.round(baseline.rate)} files/s (${Math.round(baseline.cpuUsPerFile)} µs CPU/file, services ${Math.round(baseline.servicesCpuUsPerFile)} µs), worker ${Math.round(worker.rate)} files/s (${Math.round(worker.cpuUsPerFile)} µs CPU/file, services ${Math.round(worker.servicesCpuUsPerFile)} µs): ${round(worker.rate / baseline.rate)}×`,
      );
    }
    const fileOnly = (await runBaseline('file-only', 0, perRound)).rate;
    const ratios = roundRatios(
      rounds.map((x) => x.worker.rate),
      rounds.map((x) => x.baseline.rate),
    );
    /** An info row comparing a per-file CPU figure of the worker's runs with the baseline's. */
    const cpuRow = (
      metric: string,
      of: 'cpuUsPerFile' | 'servicesCpuUsPerFile',
      note: (rounds: string) => string,
    ) => {
      const worker = rounds.map((x) => x.worker[of]);
      const baseline = rounds.map((x) => x.baseline[of]);
      const byRound = roundRatios(worker, baseline);
      return {
        bench: 'pipeline',
        metric,
        unit: 'µs',
        archiver: Math.round(median(worker)),
        baseline: Math.round(median(baseline)),
        ratio: round(median(byRound)),
        target: 'info',
        pass: true,
        note: note(listRatios(byRound)),
      };
    };
    const archiver = median(rounds.map((x) => x.worker.rate));
    const sameIo = median(rounds.map((x) => x.baseline.rate));
    const ratio = median(ratios);
    return {
      rows: [
        {
          bench: 'pipeline',
          metric: `${n} small files, concurrency ${CONCURRENCY}, vs plain script, same I/O`,
          unit: 'files/s',
          archiver: Math.round(archiver),
          baseline: Math.round(sameIo),
          ratio: round(ratio),
          target: '≥ 0.8×',
          pass: ratio >= 0.8,
          note: `baseline: downloadFile → GET → PUT file → PUT sidecar (CRC32 checksums) per file, as the worker, no queue or limiter; ${ROUNDS} rounds of ${perRound} files each, back to back in alternating order; ratio = median of the rounds' ratios (${listRatios(ratios)}); files/s = each side's median`,
        },
        cpuRow(
          'CPU per file, worker process vs baseline script',
          'cpuUsPerFile',
          (r) =>
            `user + system time of the process, including its start; Redis and S3 not counted; rounds: ${r}`,
        ),
        cpuRow(
          'CPU per file of the S3 and fake Green-API, worker run vs baseline run',
          'servicesCpuUsPerFile',
          (r) =>
            `this process (s3rver, the fake Green-API and the benchmark's own polling) while each side runs: the bottleneck on two cores; rounds: ${r}`,
        ),
        {
          bench: 'pipeline',
          metric: 'vs a script that writes no sidecar',
          unit: 'files/s',
          archiver: Math.round(archiver),
          baseline: Math.round(fileOnly),
          ratio: round(archiver / fileOnly),
          target: 'info',
          pass: true,
          note: 'one S3 request per file instead of two: what the sidecar costs on this S3',
        },
      ],
      details: { files: n, concurrency: CONCURRENCY, instances: INSTANCES, rounds, fileOnly },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await fake.close();
    await s3.stop();
    await redis.stop();
  }
}

/** When the worker finished its last job (BullMQ's finishedOn: the worker's clock, this host's). */
async function lastFinishedAt(queue: ArchiveQueue): Promise<number> {
  const [newest] = await queue.getCompleted(0, 0);
  if (!newest?.finishedOn) throw new Error('no completed job to time the run by');
  return newest.finishedOn;
}

function firstDownloadAt(fake: FakeGreenApi): number {
  const first = fake.calls.find((c) => c.method === 'downloadFile');
  if (!first) throw new Error('no downloadFile call recorded');
  return first.at;
}
