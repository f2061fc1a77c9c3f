import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeHoldRecord } from '@archiver/core';
import { startObjectLockProxy, type ObjectLockProxy } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';

/**
 * An object archived into a held chat carries the legal hold from its first request
 * (PutObject, or CreateMultipartUpload for a large file); one of another chat does not.
 * s3rver has no Object Lock: the recording proxy answers like AWS and shows the headers.
 */
let p: Pipeline;
let proxy: ObjectLockProxy;
const HELD = '7001@c.us';
const FREE = '7002@c.us';

beforeAll(async () => {
  proxy = await startObjectLockProxy(inject('s3').endpoint);
  p = await startPipeline({ HOLD_REFRESH_SECONDS: '0.2' }, { s3Endpoint: proxy.url });
  const s3 = new S3Client({ ...p.s3Overrides });
  // A hold as `archiver hold set` registers it (the CLI's own test covers the command).
  await writeHoldRecord(
    {
      prefix: `${p.prefix}/`,
      putOnce: async (key, body) => {
        await s3.send(
          new PutObjectCommand({
            Bucket: inject('s3').bucket,
            Key: key,
            Body: body,
            IfNoneMatch: '*',
          }),
        );
      },
    },
    {
      action: 'set',
      actor: 'alice',
      reason: 'matter 114',
      selection: { idInstance: WA.idInstance, chatId: HELD },
    },
  );
  s3.destroy();
});
afterAll(async () => {
  await p?.close();
  proxy?.close();
});

/** The request that creates `key`: PutObject, or CreateMultipartUpload (POST ?uploads). */
function creating(key: string) {
  return proxy.seen.find(
    (r) =>
      r.key.endsWith(key) &&
      ((r.method === 'PUT' && !r.query.has('uploadId') && !r.query.has('legal-hold')) ||
        (r.method === 'POST' && r.query.has('uploads'))),
  );
}

describe('legal hold at write time', () => {
  it.each([
    ['a small file (PutObject)', 'HOLD1', HELD, 3000, 'ON'],
    ['a large file (multipart upload)', 'HOLD2', HELD, 9 * 1024 * 1024, 'ON'],
    ['a file of a chat not held', 'HOLD3', FREE, 3000, undefined],
  ])('%s and its sidecar', async (_label, idMessage, chatId, size, expected) => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId,
      idMessage,
      size,
    });
    const { jobId } = await p.writer.write(job.data);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 50 })
      .toBe('completed');
    const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
    for (const key of [fileKey, sidecarKey]) {
      const request = creating(key);
      expect(request, key).toBeDefined();
      expect(request?.headers['x-amz-object-lock-legal-hold'], key).toBe(expected);
      expect(proxy.legalHolds.get(key), key).toBe(expected ?? 'OFF');
    }
  });

  it('reads the registry once per refresh, not once per object', () => {
    const listings = proxy.seen.filter(
      (r) => r.method === 'GET' && r.query.get('prefix') === `${p.prefix}/_holds/`,
    );
    expect(listings.length).toBeGreaterThan(0);
    // Six objects were written; reads of the registry record itself are one per process.
    const recordReads = proxy.seen.filter(
      (r) => r.method === 'GET' && r.key.startsWith(`${p.prefix}/_holds/`),
    );
    expect(recordReads).toHaveLength(1);
  });
});
