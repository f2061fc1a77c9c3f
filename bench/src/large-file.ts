import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { objectKeys } from '@archiver/core';
import {
  s3ClientConfig,
  startFakeGreenApi,
  startRedis,
  startS3,
  type FakeGreenApi,
  type S3Connection,
} from '@archiver/testkit';
import { processCpuMs } from './lib/cpu.js';
import { benchInstances, fileJob } from './lib/fixtures.js';
import { createBenchProducer } from './lib/producer.js';
import type { BenchOptions, BenchOutput } from './lib/result.js';
import { residentMemory, spawnApp, spawnSource, type SpawnedSource } from './lib/spawn.js';
import { GiB, MiB, listRatios, median, round, roundRatios, waitUntil } from './lib/stats.js';
import { workerEnv } from './lib/worker-env.js';

/**
 * One large file: MB/s of a worker process archiving it against raw fetch → lib-storage Upload
 * (same part size and queue) in its own process; and the worker's peak RSS (VmHWM) archiving a
 * big file against a small one, each in a fresh worker process, to show memory is flat in size.
 */
export async function benchLargeFile(opts: BenchOptions): Promise<BenchOutput> {
  const speedSize = opts.quick ? 256 * MiB : GiB;
  const rounds = opts.quick ? 1 : 5;
  const memoryRuns = opts.quick ? 1 : 3;
  const [smallSize, bigSize] = opts.quick ? [100 * MiB, 512 * MiB] : [100 * MiB, 2 * GiB];
  const redis = await startRedis();
  // HTTPS, as S3 is reached in production: there the worker leaves the payload unsigned (TLS
  // and the CRC32 guard it) while a plain Upload signs it; over HTTP both would hash it.
  const s3 = await startS3({ tls: true });
  const fake = await startFakeGreenApi();
  const [instance] = benchInstances(1);
  if (!instance) throw new Error('no instance');
  fake.addInstance(instance);
  const conn = s3.connection;
  const admin = new S3Client(s3ClientConfig(conn));
  const prefix = 'bench-large';
  const producer = createBenchProducer(redis.url, prefix);
  const { queue, writer } = producer;
  const env = workerEnv({
    redisUrl: redis.url,
    prefix,
    s3: conn,
    fakeUrl: fake.url,
    instances: [instance],
  });
  let seq = 0;

  /** Queues one file of `size`, waits for the job, returns its processing time and deletes the object. */
  const archiveOne = async (size: number, worker: SpawnedSource) => {
    seq += 1;
    const job = fileJob(fake, {
      idInstance: instance.idInstance,
      chatId: '79001234567@c.us',
      idMessage: `LARGE${seq}`,
      size,
    });
    const cpuBefore = processCpuMs(worker.pid);
    const { jobId } = await writer.write(job.data);
    await waitUntil(
      async () => {
        const state = await queue.getJobState(jobId);
        if (state === 'failed') throw new Error(`large job failed:\n${worker.output()}`);
        return state === 'completed';
      },
      { timeoutMs: 15 * 60_000, intervalMs: 100, what: `archiving ${size} bytes` },
    );
    const done = await queue.getJob(jobId);
    const ms = (done?.finishedOn ?? 0) - (done?.processedOn ?? 0);
    const result = done?.returnvalue as { sha256?: string } | undefined;
    if (result?.sha256 !== job.added.sha256) {
      throw new Error('large file archived with a wrong sha256');
    }
    const { fileKey } = objectKeys({ prefix: `${prefix}/`, ...job.data });
    const cpuMs = processCpuMs(worker.pid) - cpuBefore;
    await admin.send(new DeleteObjectCommand({ Bucket: conn.bucket, Key: fileKey }));
    return { ms, cpuMs };
  };

  try {
    // Throughput: one worker process, alternating with the baseline process.
    const worker = spawnApp('worker', env);
    const archiverMs: number[] = [];
    const baselineMs: number[] = [];
    const archiverCpuMs: number[] = [];
    const baselineCpuMs: number[] = [];
    let baselinePeak = 0;
    try {
      await worker.waitForLine('worker started');
      for (let r = 0; r < rounds; r += 1) {
        const runBaselineRound = async () => {
          settleDisk();
          const b = await runBaseline(fake, conn, instance.idInstance, speedSize, `baseline-${r}`);
          baselineMs.push(b.ms);
          baselineCpuMs.push(b.cpuMs);
          baselinePeak = Math.max(baselinePeak, b.peakRss);
          await admin.send(new DeleteObjectCommand({ Bucket: conn.bucket, Key: `baseline-${r}` }));
        };
        const runWorkerRound = async () => {
          settleDisk();
          const archived = await archiveOne(speedSize, worker);
          archiverMs.push(archived.ms);
          archiverCpuMs.push(archived.cpuMs);
        };
        // Each goes first in every other round, so neither always runs on a warmer or a
        // busier machine.
        if (r % 2 === 0) {
          await runBaselineRound();
          await runWorkerRound();
        } else {
          await runWorkerRound();
          await runBaselineRound();
        }
        opts.log(
          `large-file: round ${r + 1}: baseline ${round(speedSize / MiB / ((baselineMs.at(-1) ?? 1) / 1000))} MiB/s, worker ${round(speedSize / MiB / ((archiverMs.at(-1) ?? 1) / 1000))} MiB/s`,
        );
      }
    } finally {
      await worker.stop();
    }
    const mbps = (ms: number) => speedSize / MiB / (ms / 1000);
    const archiverSpeed = mbps(median(archiverMs));
    const baselineSpeed = mbps(median(baselineMs));
    const speedRatios = roundRatios(archiverMs.map(mbps), baselineMs.map(mbps));
    const speedRatio = median(speedRatios);

    // Memory: a fresh worker process per file, peak RSS read from /proc.
    const peakFor = async (size: number) => {
      const proc = spawnApp('worker', env);
      try {
        await proc.waitForLine('worker started');
        await sleep(500);
        const idle = residentMemory(proc.pid).current;
        let sampledMax = 0;
        const sampler = setInterval(() => {
          sampledMax = Math.max(sampledMax, residentMemory(proc.pid).current);
        }, 100);
        try {
          await archiveOne(size, proc);
        } finally {
          clearInterval(sampler);
        }
        const { peak } = residentMemory(proc.pid);
        opts.log(
          `large-file: ${round(size / MiB)} MiB: idle ${round(idle / MiB)} MiB, peak RSS ${round(peak / MiB)} MiB`,
        );
        return { idle, peak, sampledMax };
      } finally {
        await proc.stop();
      }
    };
    // A process' peak is its highest spike (garbage not yet collected, parts in flight), and
    // a longer run has more chances at one: single runs of the same code read 1.00–1.12× here.
    // Several fresh processes per size, in alternating order, and the medians of their peaks.
    const small: Array<Awaited<ReturnType<typeof peakFor>>> = [];
    const big: typeof small = [];
    for (let k = 0; k < memoryRuns; k += 1) {
      if (k % 2 === 0) {
        small.push(await peakFor(smallSize));
        big.push(await peakFor(bigSize));
      } else {
        big.push(await peakFor(bigSize));
        small.push(await peakFor(smallSize));
      }
    }
    const smallPeak = median(small.map((x) => x.peak));
    const bigPeak = median(big.map((x) => x.peak));
    const mibList = (xs: Array<{ peak: number }>) =>
      xs.map((x) => round(x.peak / MiB, 1)).join(', ');
    const label = (size: number) => (size >= GiB ? `${size / GiB} GiB` : `${size / MiB} MiB`);
    return {
      rows: [
        {
          bench: 'large-file',
          metric: `archive ${label(speedSize)} (${rounds} rounds)`,
          unit: 'MiB/s',
          archiver: round(archiverSpeed, 1),
          baseline: round(baselineSpeed, 1),
          ratio: round(speedRatio),
          target: '≥ 0.9×',
          pass: speedRatio >= 0.9,
          note: `baseline = fetch → Upload (8 MiB parts, queue 4, SDK defaults) in its own process, both to S3 over HTTPS; ratio = median of the rounds' ratios (${listRatios(speedRatios)}), MiB/s = each side's median; baseline peak RSS ${round(baselinePeak / MiB)} MiB`,
        },
        {
          bench: 'large-file',
          metric: `CPU time per ${label(speedSize)}, worker vs baseline process (median)`,
          unit: 's',
          archiver: round(median(archiverCpuMs) / 1000, 1),
          baseline: round(median(baselineCpuMs) / 1000, 1),
          ratio: round(median(archiverCpuMs) / median(baselineCpuMs)),
          target: 'info',
          pass: true,
          note: 'the worker hashes every byte (SHA-256, for the sidecar) and sends a CRC32 with every part; the baseline SHA-256-signs every part',
        },
        {
          bench: 'large-file',
          metric: `worker peak RSS, ${label(bigSize)} vs ${label(smallSize)} (median of ${memoryRuns} each)`,
          unit: 'MiB',
          archiver: round(bigPeak / MiB, 1),
          baseline: round(smallPeak / MiB, 1),
          ratio: round(bigPeak / smallPeak),
          target: '≤ 1.1×',
          pass: bigPeak / smallPeak <= 1.1,
          note: `VmHWM of a fresh worker process per file, median of ${memoryRuns} per size (${label(bigSize)}: ${mibList(big)} MiB; ${label(smallSize)}: ${mibList(small)} MiB); idle RSS ${round(median(small.map((x) => x.idle)) / MiB)} / ${round(median(big.map((x) => x.idle)) / MiB)} MiB`,
        },
      ],
      details: {
        speedSize,
        archiverMs,
        baselineMs,
        archiverCpuMs,
        baselineCpuMs,
        baselinePeak,
        small,
        big,
        smallSize,
        bigSize,
      },
    };
  } finally {
    admin.destroy();
    await producer.close();
    await fake.close();
    await s3.stop();
    await redis.stop();
  }
}

/**
 * Writes back what the previous phase left in the page cache (s3rver keeps objects on disk:
 * each 1 GiB upload writes its parts, then the whole object), so that phase's disk writes do
 * not land on the next one's clock.
 */
function settleDisk() {
  execFileSync('sync');
}

async function runBaseline(
  fake: FakeGreenApi,
  conn: S3Connection,
  idInstance: string,
  size: number,
  key: string,
) {
  const added = fake.addFile({
    idInstance,
    chatId: '79001234567@c.us',
    idMessage: `BASE-${key}`,
    size,
  });
  const proc = spawnSource('bench/src/procs/upload-baseline.ts', {
    BASELINE_S3: JSON.stringify(conn),
    BASELINE_URL: added.downloadUrl,
    BASELINE_KEY: key,
  });
  const line = await proc.waitForLine('upload done', 15 * 60_000);
  await proc.exited;
  return JSON.parse(line) as { ms: number; cpuMs: number; peakRss: number };
}
