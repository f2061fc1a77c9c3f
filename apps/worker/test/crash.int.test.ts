import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import {
  getObjectBytes,
  listAllKeys,
  listMultipartUploads,
  s3ClientConfig,
} from '@archiver/testkit';
import { MAX, WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';
import { spawnApp, type SpawnedApp } from './process.js';

let p: Pipeline;
let s3: S3Client;
const children: SpawnedApp[] = [];

beforeAll(async () => {
  p = await startPipeline({ WORKER_LOCK_DURATION_MS: '2000' });
  // The in-process worker stays off: these tests own their worker processes.
  await p.stopWorker();
  s3 = new S3Client(s3ClientConfig(inject('s3')));
});
afterAll(async () => {
  for (const c of children) c.child.kill('SIGKILL');
  await p?.close();
  s3?.destroy();
});

function workerEnv(): Record<string, string> {
  const s3c = inject('s3');
  return {
    REDIS_URL: p.config.redisUrl,
    QUEUE_PREFIX: p.prefix,
    GREEN_API_INSTANCES: JSON.stringify([WA, MAX].map((i) => ({ ...i, apiUrl: p.fake.url }))),
    S3_BUCKET: s3c.bucket,
    S3_PREFIX: `${p.prefix}/`,
    S3_ENDPOINT: s3c.endpoint,
    AWS_ACCESS_KEY_ID: s3c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3c.secretAccessKey,
    AWS_REGION: s3c.region,
    METRICS_PORT: '0',
    WORKER_LOCK_DURATION_MS: '2000',
    RETRY_BASE_DELAY_MS: '100',
    RETRY_MAX_DELAY_MS: '500',
    SHUTDOWN_TIMEOUT_MS: '20000',
    LOG_LEVEL: 'info',
  };
}

function startWorkerProcess() {
  const app = spawnApp('worker', workerEnv());
  children.push(app);
  return app;
}

describe('worker processes', () => {
  it('loses nothing when a worker is killed with SIGKILL mid-upload: one object after restart, no dangling upload', async () => {
    const size = 24 * 1024 * 1024;
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'videoMessage',
      chatId: '7@c.us',
      idMessage: 'KILL9',
      size,
    });
    // The first download sends 17 MiB (two 8 MiB parts reach S3) and then hangs.
    p.fake.scriptFile('KILL9', [{ stallAfter: 17 * 1024 * 1024 }]);
    const first = startWorkerProcess();
    const { jobId } = await p.writer.write(job.data);
    await expect
      .poll(() => listMultipartUploads(s3, inject('s3').bucket, `${p.prefix}/`), {
        timeout: 30_000,
        interval: 100,
      })
      .toHaveLength(1);
    const [, signal] = await first.kill('SIGKILL');
    expect(signal).toBe('SIGKILL');

    startWorkerProcess();
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 100 })
      .toBe('completed');
    const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
    const bytes = await getObjectBytes(s3, inject('s3').bucket, fileKey);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.added.sha256);
    expect((await listAllKeys(s3, inject('s3').bucket, `${p.prefix}/`)).sort()).toEqual(
      [fileKey, sidecarKey].sort(),
    );
    expect(await listMultipartUploads(s3, inject('s3').bucket, `${p.prefix}/`)).toEqual([]);
  });

  it('on SIGTERM stops taking jobs, finishes the one in flight and exits 0', async () => {
    for (const c of children) c.child.kill('SIGKILL');
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '7@c.us',
      idMessage: 'TERM1',
      size: 4096,
    });
    p.fake.scriptFile('TERM1', [{ delayMs: 2500 }]);
    const worker = startWorkerProcess();
    const { jobId } = await p.writer.write(job.data);
    await expect
      .poll(() => p.fake.count('file'), { timeout: 30_000, interval: 50 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 10_000, interval: 50 })
      .toBe('active');
    const exit = worker.kill('SIGTERM');
    await expect
      .poll(() => worker.output(), { timeout: 15_000, interval: 20 })
      .toContain('stopping: finishing in-flight jobs');
    // Queued one by one while the worker drains. BullMQ may still run the one job its
    // blocking fetch was already waiting for when close() began; it takes no other.
    const later: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const queued = fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'documentMessage',
        chatId: '7@c.us',
        idMessage: `TERM-LATER-${i}`,
      });
      later.push((await p.writer.write(queued.data)).jobId);
    }
    const [code] = await exit;
    expect(code).toBe(0);
    expect(await jobState(p.queue, jobId)).toBe('completed');
    const states = await Promise.all(later.map((id) => jobState(p.queue, id)));
    expect(states.every((state) => ['waiting', 'prioritized', 'completed'].includes(state))).toBe(
      true,
    );
    expect(states.filter((state) => state === 'completed').length).toBeLessThanOrEqual(1);
    expect(worker.output()).not.toContain(WA.apiTokenInstance);
  });
});
