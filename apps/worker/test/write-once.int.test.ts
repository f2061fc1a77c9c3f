import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { redisKeys, sidecarSchema, type ArchiveJob } from '@archiver/core';
import { getObjectBytes, s3ClientConfig } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';
import { objectPath, startConditionalS3, type ConditionalS3 } from './conditional-s3.js';
import { detectRecordWriteMode } from '../src/storage/records.js';

const DAY_S = 86_400;
const bucket = () => inject('s3').bucket;

/**
 * A record that says `archived` is never replaced by a failure record, whatever runs the
 * job again; a failure record gives way only to an archived file. Each case runs on a store
 * that honours conditional writes (s3rver behind a proxy that answers them as AWS does) and
 * on one that ignores them (s3rver itself: the worker reads before it writes).
 */
describe.each([
  ['conditional writes', 'true'],
  ['read before write', 'false'],
] as const)('write-once records (%s)', (_label, conditional) => {
  let p: Pipeline;
  let s3: S3Client;
  let proxy: ConditionalS3 | undefined;

  beforeAll(async () => {
    if (conditional === 'true') proxy = await startConditionalS3(inject('s3').endpoint);
    p = await startPipeline({ S3_CONDITIONAL_WRITES: conditional }, { s3Endpoint: proxy?.url });
    s3 = new S3Client(s3ClientConfig(inject('s3')));
  });
  afterAll(async () => {
    await p?.close();
    proxy?.close();
    s3?.destroy();
  });

  async function recordOf(data: ArchiveJob) {
    const key = keysOf(`${p.prefix}/`, data).sidecarKey;
    return sidecarSchema.parse(
      JSON.parse((await getObjectBytes(s3, bucket(), key)).toString('utf8')),
    );
  }

  /** Runs `data` as a new job and waits for it to finish, as if Redis had never seen it. */
  async function runAfresh(data: ArchiveJob, state: 'completed' | 'failed') {
    const { jobId } = await p.writer.write(data);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 50 })
      .toBe(state);
    const job = await p.queue.getJob(jobId);
    // Gone: the finished job and its dedupe marker (removed by hand, aged out, or Redis lost).
    await job?.remove();
    await p.producer.del(redisKeys(p.prefix).done(jobId));
    return job;
  }

  function caseOf(idMessage: string, timestamp = Math.floor(Date.now() / 1000)) {
    return fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: `${conditional}@c.us`,
      idMessage: `${idMessage}${conditional === 'true' ? 'C' : 'R'}`,
      timestamp,
    });
  }

  it('keeps an archived record when a late duplicate arrives past the deadline', async () => {
    // Archived under an operator's grace (retry-failed), the deadline itself long past.
    const late = caseOf('LATE', Math.floor(Date.now() / 1000) - 16 * DAY_S);
    await runAfresh({ ...late.data, graceUntil: Date.now() + 120_000 }, 'completed');
    const archived = await recordOf(late.data);
    expect(archived).toMatchObject({ status: 'archived', sha256: late.added.sha256 });

    const again = await runAfresh(late.data, 'completed');
    expect(again?.returnvalue).toMatchObject({ status: 'duplicate' });
    expect(await recordOf(late.data)).toEqual(archived);
  });

  it('keeps an archived record when the same webhook comes back after Redis lost it', async () => {
    const lost = caseOf('LOST');
    await runAfresh(lost.data, 'completed');
    const archived = await recordOf(lost.data);
    const again = await runAfresh(lost.data, 'completed');
    expect(again?.returnvalue).toMatchObject({ status: 'duplicate', sha256: lost.added.sha256 });
    expect(await recordOf(lost.data)).toEqual(archived);
  });

  it('keeps the first failure record: a later failure does not rewrite its reason', async () => {
    const gone = caseOf('GONE', Math.floor(Date.now() / 1000) - 16 * DAY_S);
    p.fake.scriptDownloadFile(gone.data.idMessage, [
      { status: 400, body: 'File message encrypted url not found' },
    ]);
    await runAfresh({ ...gone.data, graceUntil: Date.now() + 120_000 }, 'failed');
    const first = await recordOf(gone.data);
    expect(first).toMatchObject({ status: 'permanent_failure', reason: { code: 'no_file' } });

    const again = await runAfresh(gone.data, 'failed');
    expect(again?.failedReason).toMatch(/^expired: deadline_passed/);
    expect(await recordOf(gone.data)).toEqual(first);
  });

  it('replaces a failure record once the file arrives', async () => {
    const retried = caseOf('RETRIED');
    p.fake.scriptDownloadFile(retried.data.idMessage, [
      { status: 400, body: 'File message encrypted url not found' },
    ]);
    await runAfresh(retried.data, 'failed');
    expect(await recordOf(retried.data)).toMatchObject({ status: 'permanent_failure' });

    await runAfresh(retried.data, 'completed');
    expect(await recordOf(retried.data)).toMatchObject({
      status: 'archived',
      sha256: retried.added.sha256,
    });
    if (!proxy) return;
    // What S3 was asked: create only where nothing is; replace only the failure record read.
    const key = keysOf(`${p.prefix}/`, retried.data).sidecarKey;
    const puts = proxy.seen.filter(
      (r) => r.method === 'PUT' && r.path.split('?')[0] === objectPath(bucket(), key),
    );
    expect(puts.map((r) => [r.headers['if-none-match'], r.headers['if-match']])).toEqual([
      ['*', undefined],
      ['*', undefined],
      [undefined, expect.stringMatching(/^"[0-9a-f]+"$/)],
    ]);
  });
});

describe('detecting conditional writes', () => {
  it('finds that s3rver ignores them, and that a store answering them honours them', async () => {
    const conn = inject('s3');
    const proxy = await startConditionalS3(conn.endpoint);
    const plain = new S3Client(s3ClientConfig(conn));
    const guarded = new S3Client({ ...s3ClientConfig(conn), endpoint: proxy.url });
    try {
      expect(await detectRecordWriteMode(plain, conn.bucket, 'probe-a/')).toBe('read-before-write');
      expect(await detectRecordWriteMode(guarded, conn.bucket, 'probe-b/')).toBe('conditional');
      // Nothing is left behind either way.
      const left = proxy.seen.filter((r) => r.method === 'PUT');
      expect(left).toHaveLength(1);
      await expect(
        getObjectBytes(plain, conn.bucket, 'probe-a/_archiver/conditional-write-probe'),
      ).rejects.toThrow();
      await expect(
        getObjectBytes(plain, conn.bucket, 'probe-b/_archiver/conditional-write-probe'),
      ).rejects.toThrow();
    } finally {
      plain.destroy();
      guarded.destroy();
      proxy.close();
    }
  });
});
