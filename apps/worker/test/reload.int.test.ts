import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ConfigError,
  createBackfillQueue,
  createCheckQueue,
  createStatusesQueue,
  loadConfig,
  sidecarSchema,
} from '@archiver/core';
import { getObjectBytes, s3ClientConfig } from '@archiver/testkit';
import { MAX, WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';

/** An instance the fake knows from the start and the file names only later. */
const NEW = {
  idInstance: '1101000777',
  apiTokenInstance: 'new-api-token-5d2e91c4',
  kind: 'whatsapp' as const,
};
const GRACE_MS = 1500;

let p: Pipeline;
let s3: S3Client;
let queues: Array<{
  getJobSchedulers(start?: number, end?: number): Promise<Array<{ key: string }>>;
  close(): Promise<void>;
}>;
let n = 0;

beforeAll(async () => {
  p = await startPipeline({}, { instancesFile: true, unknownInstanceGraceMs: GRACE_MS });
  p.fake.addInstance(NEW);
  s3 = new S3Client(s3ClientConfig(inject('s3')));
  queues = [
    createBackfillQueue(p.producer, p.prefix),
    createStatusesQueue(p.producer, p.prefix),
    createCheckQueue(p.producer, p.prefix),
  ];
});
afterAll(async () => {
  for (const q of queues ?? []) await q.close();
  await p?.close();
  s3?.destroy();
});

/** The backfill, statuses and check schedulers of one instance. */
async function schedulersOf(idInstance: string): Promise<string[]> {
  const all = await Promise.all(queues.map((q) => q.getJobSchedulers(0, -1)));
  return all
    .flat()
    .map((s) => s.key)
    .filter((key) => key.endsWith(`-${idInstance}`))
    .sort();
}
const allThree = (id: string) => [`check-${id}`, `reconcile-${id}`, `statuses-${id}`];

/** Queues a file job of `instance`, as a webhook would; returns its id and data. */
async function queueFile(instance: { idInstance: string; kind: 'whatsapp' | 'max' }) {
  n += 1;
  const { data } = fileJob(p.fake, {
    kind: instance.kind,
    idInstance: instance.idInstance,
    typeMessage: 'documentMessage',
    chatId: instance.kind === 'max' ? '-10000000000042' : '79001234567@c.us',
    idMessage: instance.kind === 'max' ? `115206687571465${n}` : `RELOAD${n}`,
    size: 300 + n,
  });
  const { jobId } = await p.writer.write(data);
  return { jobId, data };
}

async function recordOf(data: Parameters<typeof keysOf>[1]) {
  const key = keysOf(`${p.prefix}/`, data).sidecarKey;
  const bytes = await getObjectBytes(s3, inject('s3').bucket, key);
  return sidecarSchema.parse(JSON.parse(bytes.toString('utf8')));
}

/** The `problem` of every `instances not reloaded` line logged so far. */
function loggedProblems(): string[] {
  return p.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"instances not reloaded"'))
    .map((line) => (JSON.parse(line) as { problem: string }).problem);
}

/** What start-up would say of this content: the lines a reload must log. */
function problemsOf(content: string): string[] {
  try {
    const env = { GREEN_API_INSTANCES: '@/instances.json', S3_BUCKET: 'archive' };
    loadConfig(env, 'worker', { readFile: () => content });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('worker: GREEN_API_INSTANCES=@file reloads without a restart', () => {
  it('serves a new instance, stops scheduling a removed one but finishes its queued job, keeps the old set on bad content', async () => {
    expect(await schedulersOf(MAX.idInstance)).toEqual(allThree(MAX.idInstance));
    expect(await schedulersOf(NEW.idInstance)).toEqual([]);

    // Added: its schedulers are declared and its files archived within seconds.
    p.writeInstances(JSON.stringify([WA, MAX, NEW].map(p.entryOf)));
    await expect
      .poll(() => schedulersOf(NEW.idInstance), { timeout: 10_000, interval: 50 })
      .toEqual(allThree(NEW.idInstance));
    const fresh = await queueFile(NEW);
    await expect
      .poll(() => jobState(p.queue, fresh.jobId), { timeout: 10_000, interval: 50 })
      .toBe('completed');
    expect((await recordOf(fresh.data)).status).toBe('archived');

    // Removed while one of its files waits in the queue: the schedulers go, the file is
    // still archived with the token the worker kept for it.
    const worker = p.worker!.worker;
    await worker.pause();
    const queued = await queueFile(MAX);
    p.writeInstances(JSON.stringify([WA, NEW].map(p.entryOf)));
    await expect
      .poll(() => schedulersOf(MAX.idInstance), { timeout: 10_000, interval: 50 })
      .toEqual([]);
    expect(p.registry?.current.has(MAX.idInstance)).toBe(false);
    expect(['waiting', 'prioritized']).toContain(await jobState(p.queue, queued.jobId));
    await worker.resume();
    await expect
      .poll(() => jobState(p.queue, queued.jobId), { timeout: 10_000, interval: 50 })
      .toBe('completed');
    expect((await recordOf(queued.data)).status).toBe('archived');

    // Bad content: each problem on its own line, and nothing changes.
    for (const bad of [
      '[{"idInstance": "1101000777", "apiUrl": ',
      JSON.stringify([
        p.entryOf(WA),
        { ...p.entryOf(NEW), apiUrl: 'not a url' },
        { idInstance: 'x', apiTokenInstance: 'secret-of-x-0123' },
      ]),
    ]) {
      const expected = problemsOf(bad);
      expect(expected.length).toBeGreaterThan(0);
      const before = loggedProblems().length;
      p.writeInstances(bad);
      await expect
        .poll(() => loggedProblems().slice(before), { timeout: 10_000, interval: 50 })
        .toEqual(expected);
    }
    expect(loggedProblems().some((l) => l.includes('GREEN_API_INSTANCES[1'))).toBe(true);
    expect(p.logs.join('')).not.toContain('secret-of-x-0123');
    expect([...(p.registry?.current.keys() ?? [])].sort()).toEqual(
      [WA.idInstance, NEW.idInstance].sort(),
    );
    expect(await schedulersOf(NEW.idInstance)).toEqual(allThree(NEW.idInstance));
    const still = await queueFile(NEW);
    await expect
      .poll(() => jobState(p.queue, still.jobId), { timeout: 10_000, interval: 50 })
      .toBe('completed');
  });

  it("ends a removed instance's job with a failure record once no worker knows its token", async () => {
    // Restarted on the file without MAX: nothing in this process holds its token any more.
    p.writeInstances(JSON.stringify([WA, NEW].map(p.entryOf)));
    await p.restartWorker();
    expect(p.registry?.lookup.has(MAX.idInstance)).toBe(false);
    const downloads = p.fake.count('downloadFile', { idInstance: MAX.idInstance });
    const orphan = await queueFile(MAX);
    await expect
      .poll(() => jobState(p.queue, orphan.jobId), { timeout: 15_000, interval: 100 })
      .toBe('failed');
    const job = await p.queue.getJob(orphan.jobId);
    expect(job?.failedReason).toMatch(
      /^permanent_failure: instance_not_configured: instance 3100000000 is not configured/,
    );
    // It waited for the configuration to catch up, without an attempt, then ended.
    expect(job?.data.unknownSince).toBeDefined();
    expect((job?.finishedOn ?? 0) - (job?.data.unknownSince ?? 0)).toBeGreaterThanOrEqual(GRACE_MS);
    const record = await recordOf(orphan.data);
    expect(record).toMatchObject({
      status: 'permanent_failure',
      reason: { code: 'instance_not_configured' },
    });
    expect(record.reason?.error).toContain('archiver retry-failed');
    expect(p.fake.count('downloadFile', { idInstance: MAX.idInstance })).toBe(downloads);
  });
});
