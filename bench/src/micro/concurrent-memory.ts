// Peak RSS of one worker process archiving N large files at once (its WORKER_CONCURRENCY = N),
// to S3 over HTTPS: the measurement behind the worker's memory sizing (docs/operations.md, "Scaling
// workers"; infra/kubernetes/worker.yaml). Not part of `pnpm bench` (no target). Needs the
// worker built (`pnpm build`).
//   FILES=16 SIZE_MIB=100 node --conditions=@archiver/source --import tsx bench/src/micro/concurrent-memory.ts
// TLS=0 serves S3 over plain HTTP instead, to tell TLS's share of the memory from the rest.
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeGreenApi, startRedis, startS3 } from '@archiver/testkit';
import { benchInstances, fileJob, type BenchInstance } from '../lib/fixtures.js';
import { createBenchProducer } from '../lib/producer.js';
import { residentMemory, spawnApp } from '../lib/spawn.js';
import { MiB, waitUntil } from '../lib/stats.js';
import { workerEnv } from '../lib/worker-env.js';

const files = Number(process.env.FILES ?? 16);
const size = Number(process.env.SIZE_MIB ?? 100) * MiB;
const tls = process.env.TLS !== '0';
const prefix = 'concurrent-memory';

const redis = await startRedis();
const s3 = await startS3({ tls, runtime: 'local' });
const fake = await startFakeGreenApi();
const instance = benchInstances(1)[0] as BenchInstance;
// The rate limit lifted: the files are to be in flight together.
fake.addInstance({ ...instance, rps: 1000 });
const producer = createBenchProducer(redis.url, prefix);
const worker = spawnApp(
  'worker',
  workerEnv({
    redisUrl: redis.url,
    prefix,
    s3: s3.connection,
    fakeUrl: fake.url,
    instances: [instance],
    extra: { WORKER_CONCURRENCY: String(files), DOWNLOAD_RPS: '1000' },
  }),
);
try {
  await worker.waitForLine('worker started');
  await sleep(500);
  const idle = residentMemory(worker.pid).current;
  const started = Date.now();
  for (let k = 0; k < files; k += 1) {
    const job = fileJob(fake, {
      idInstance: instance.idInstance,
      chatId: '79001234567@c.us',
      idMessage: `MEMORY${k}`,
      size,
    });
    await producer.writer.write(job.data);
  }
  await waitUntil(
    async () => {
      const counts = await producer.queue.getJobCounts('completed', 'failed');
      if ((counts.failed ?? 0) > 0) throw new Error(`jobs failed:\n${worker.output()}`);
      return (counts.completed ?? 0) >= files;
    },
    { timeoutMs: 30 * 60_000, intervalMs: 500, what: `${files} files archived` },
  );
  const { peak } = residentMemory(worker.pid);
  console.log(
    JSON.stringify({
      files,
      tls,
      sizeMiB: size / MiB,
      idleMiB: Math.round(idle / MiB),
      peakMiB: Math.round(peak / MiB),
      perFileMiB: Math.round((peak - idle) / MiB / files),
      seconds: (Date.now() - started) / 1000,
    }),
  );
} finally {
  await worker.stop();
  await producer.close();
  await fake.close();
  await s3.stop();
  await redis.stop();
}
