import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  BACKFILL_JOB,
  redisKeys,
  claimNewJobIds,
  createBackfillQueue,
  createMetrics,
  encodeJobIdentity,
  instanceMap,
  jobIdentityOf,
  sidecarSchema,
  type ArchiveJob,
} from '@archiver/core';
import { getObjectBytes, s3ClientConfig } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';
import { createObjectStore } from '../src/storage/object-store.js';
import { createLostJobSweep, LOST_JOB_GRACE_MS } from '../src/lost-jobs.js';
import { archivedRecord } from '../src/jobs/records.js';

const bucket = () => inject('s3').bucket;

/** The record at `data`'s sidecar key, or undefined when there is none. */
async function recordAt(s3: S3Client, prefix: string, data: ArchiveJob) {
  const key = keysOf(`${prefix}/`, data).sidecarKey;
  try {
    const text = (await getObjectBytes(s3, bucket(), key)).toString('utf8');
    return sidecarSchema.parse(JSON.parse(text));
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function scrape(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('the lost-job sweep, as the worker runs it', () => {
  let p: Pipeline;
  let s3: S3Client;

  beforeAll(async () => {
    p = await startPipeline({}, { lostJobs: { intervalMs: 250, graceMs: 1500 } });
    s3 = new S3Client(s3ClientConfig(inject('s3')));
  });
  afterAll(async () => {
    await p?.close();
    s3?.destroy();
  });

  it('records a job removed by hand as job_lost, counts it, and lets a redelivery archive it', async () => {
    const lost = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001112233@c.us',
      idMessage: 'REMOVED1',
      fileName: 'invoice 7.pdf',
    });
    const keys = redisKeys(p.prefix);
    // Paused, so the job waits; then removed by hand, as from the dashboard or redis-cli.
    await p.queue.pause();
    const { jobId } = await p.writer.write(lost.data);
    await p.queue.remove(jobId);
    await p.queue.resume();

    const port = p.worker?.port ?? 0;
    const series = `archiver_jobs_lost_total{instance="${WA.idInstance}"}`;
    await expect.poll(() => scrape(port, series), { timeout: 20_000, interval: 100 }).toBe(1);
    const record = await recordAt(s3, p.prefix, lost.data);
    expect(record).toMatchObject({
      status: 'permanent_failure',
      reason: { code: 'job_lost' },
      idInstance: WA.idInstance,
      chatId: '79001112233@c.us',
      idMessage: 'REMOVED1',
      kind: 'whatsapp',
      typeWebhook: lost.data.typeWebhook,
      typeMessage: 'documentMessage',
      timestamp: lost.data.timestamp,
      fileName: 'invoice 7.pdf',
      intendedKey: keysOf(`${p.prefix}/`, lost.data).fileKey,
      source: 'webhook',
    });
    expect(record?.key).toBeUndefined();
    expect(await p.producer.zscore(keys.deadlines, jobId)).toBeNull();
    expect(await p.producer.hexists(keys.identities, jobId)).toBe(0);
    expect(
      await scrape(port, 'archiver_failures_total{outcome="permanent_failure",reason="job_lost"}'),
    ).toBe(1);

    // No done marker was set: the same webhook again is a new job, and its file replaces
    // the job_lost record.
    expect((await p.writer.write(lost.data)).outcome).toBe('accepted');
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 20_000, interval: 50 })
      .toBe('completed');
    expect(await recordAt(s3, p.prefix, lost.data)).toMatchObject({
      status: 'archived',
      sha256: lost.added.sha256,
    });
    // Counted once, whatever further sweeps ran meanwhile.
    expect(await scrape(port, series)).toBe(1);
  });
});

describe('what the lost-job sweep decides', () => {
  let p: Pipeline;
  let s3: S3Client;
  let redis: Redis;
  const later = () => Date.now() + LOST_JOB_GRACE_MS + 60_000;

  beforeAll(async () => {
    p = await startPipeline();
    // No worker: nothing runs the jobs or sweeps behind the test's back.
    await p.stopWorker();
    s3 = new S3Client(s3ClientConfig(inject('s3')));
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await p?.close();
    s3?.destroy();
    await redis?.quit();
  });

  function s3Config() {
    if (!p.config.s3) throw new Error('the pipeline has no S3 configuration');
    return p.config.s3;
  }

  function sweeper(now = later) {
    const metrics = createMetrics();
    const store = createObjectStore(new S3Client({ ...p.s3Overrides }), s3Config());
    const sweep = createLostJobSweep({
      redis: p.producer,
      keys: redisKeys(p.prefix),
      store,
      s3Prefix: `${p.prefix}/`,
      instances: instanceMap(p.config.instances),
      metrics,
      logger: p.logger,
      now,
    });
    const lostCount = async (instance: string) =>
      (await metrics.jobsLost.get()).values.find((v) => v.labels.instance === instance)?.value ?? 0;
    return { sweep, store, lostCount };
  }

  function fileCase(idMessage: string) {
    return fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '79004445566@c.us',
      idMessage,
      direction: 'incoming',
    });
  }

  it('leaves a job that is there alone, and a claim too recent to tell', async () => {
    const waiting = fileCase('WAITING1');
    const { jobId } = await p.writer.write(waiting.data);
    // Indexed, but its job not added yet (the receiver between its two round trips).
    const adding = fileCase('ADDING1');
    const addingId = `${WA.idInstance}-adding`;
    const identity = encodeJobIdentity(jobIdentityOf(adding.data, Date.now()));
    await claimNewJobIds(p.producer, redisKeys(p.prefix), [
      { jobId: addingId, deadline: Date.now() + 86_400_000, identity },
    ]);

    const now = sweeper(() => Date.now());
    expect(await now.sweep()).toMatchObject({ inFlight: 1, recent: 1, lost: 0 });
    expect(await recordAt(s3, p.prefix, adding.data)).toBeUndefined();

    // Past the grace, the claim whose job never came is lost; the waiting job still is not.
    const after = sweeper();
    expect(await after.sweep()).toMatchObject({ inFlight: 1, lost: 1 });
    expect(await recordAt(s3, p.prefix, waiting.data)).toBeUndefined();
    expect(await recordAt(s3, p.prefix, adding.data)).toMatchObject({
      reason: { code: 'job_lost' },
    });
    expect(await jobState(p.queue, jobId)).toBe('prioritized');
  });

  it('never calls a job lost whose archived record is already in S3, nor overwrites it', async () => {
    const finishing = fileCase('FINISHING1');
    const { jobId } = await p.writer.write(finishing.data);
    const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, finishing.data);
    const { sweep, store, lostCount } = sweeper();
    // The job wrote its record, then vanished before it marked itself done.
    await store.putRecord(
      sidecarKey,
      archivedRecord({
        data: finishing.data,
        message: {},
        attempts: 1,
        key: fileKey,
        sha256: finishing.added.sha256,
        size: finishing.added.size,
        contentType: finishing.added.mimeType,
      }),
    );
    const archived = await recordAt(s3, p.prefix, finishing.data);
    await p.queue.remove(jobId);

    expect(await sweep()).toMatchObject({ ended: 1, lost: 0 });
    expect(await recordAt(s3, p.prefix, finishing.data)).toEqual(archived);
    expect(await lostCount(WA.idInstance)).toBe(0);
    const keys = redisKeys(p.prefix);
    expect(await p.producer.zscore(keys.deadlines, jobId)).toBeNull();
    // Marked done as the job would have: a late duplicate stays a duplicate.
    expect(await p.producer.get(keys.done(jobId))).toBe('archived');
    expect((await p.writer.write(finishing.data)).outcome).toBe('duplicate');
  });

  it('counts an entry an older release indexed without an identity, after its grace', async () => {
    const keys = redisKeys(p.prefix);
    const jobId = `${WA.idInstance}-olderrelease`;
    await p.producer.zadd(keys.deadlines, Date.now() + 86_400_000, jobId);
    const { sweep, lostCount } = sweeper(() => Date.now());
    // First seen now; nothing is known yet of whether its job is on its way.
    expect(await sweep()).toMatchObject({ recent: 1, unidentified: 0 });
    expect(await lostCount(WA.idInstance)).toBe(0);

    const after = sweeper();
    expect(await after.sweep()).toMatchObject({ unidentified: 1 });
    expect(await after.lostCount(WA.idInstance)).toBe(1);
    expect(await p.producer.zscore(keys.deadlines, jobId)).toBeNull();
    expect(await p.producer.hexists(keys.identities, jobId)).toBe(0);
  });

  it('after Redis lost its data finds nothing; the journals backfill archives the file', async () => {
    const flushed = fileCase('FLUSHED1');
    const { jobId } = await p.writer.write(flushed.data);
    // FLUSHALL, as far as this archiver can tell: every key under its prefix is gone (the
    // shared test server serves other files too). The index went with the jobs.
    const gone = await redis.keys(`${p.prefix}:*`);
    await redis.del(...gone);

    const { sweep } = sweeper();
    expect(await sweep()).toEqual({
      inFlight: 0,
      stale: 0,
      recent: 0,
      lost: 0,
      unidentified: 0,
      ended: 0,
      changed: 0,
    });
    expect(await recordAt(s3, p.prefix, flushed.data)).toBeUndefined();

    // The recovery: the journals still list the message.
    await p.restartWorker();
    const backfill = createBackfillQueue(p.producer, p.prefix);
    await backfill.add(BACKFILL_JOB, { idInstance: WA.idInstance, minutes: 60 });
    await backfill.close();
    await expect
      .poll(() => recordAt(s3, p.prefix, flushed.data), { timeout: 30_000, interval: 100 })
      .toMatchObject({ status: 'archived', sha256: flushed.added.sha256, source: 'journal' });
    expect(await jobState(p.queue, jobId)).toBe('completed');
    await p.stopWorker();
  });
});
