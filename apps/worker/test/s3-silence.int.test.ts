import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { getObjectBytes, listAllKeys, s3ClientConfig } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';

/**
 * An S3 that takes a request and never answers (a black-holed endpoint, a hung proxy) must not
 * hold a job for good. A proxy in front of s3rver swallows the first PUT of one file: that
 * request must time out and be tried again, and the file end up archived once, whole.
 */
let p: Pipeline;
let proxy: S3Proxy | undefined;
let s3: S3Client;
/** The path (`/bucket/key`) whose first PUT is swallowed. */
let silencedPath: string | undefined;
let swallowed = 0;
const bucket = () => inject('s3').bucket;

beforeAll(async () => {
  proxy = await startS3Proxy(inject('s3').endpoint, (req) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    if (req.method !== 'PUT' || path !== silencedPath || swallowed > 0) return false;
    swallowed += 1;
    req.resume(); // read the body, answer nothing
    return true;
  });
  p = await startPipeline(
    {},
    { s3Endpoint: proxy.url, s3Timeouts: { connectionTimeout: 1000, socketTimeout: 500 } },
  );
  s3 = new S3Client(s3ClientConfig(inject('s3')));
});
afterAll(async () => {
  await p?.close();
  proxy?.close();
  s3?.destroy();
});

describe('a silent S3', () => {
  it('times out a PUT that is never answered, then archives the file once, whole', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '15@c.us',
      idMessage: 'SILENT1',
      size: 5000,
    });
    const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
    silencedPath = `/${bucket()}/${fileKey}`;
    const { jobId } = await p.writer.write(job.data);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 50 })
      .toBe('completed');
    expect(swallowed).toBe(1);
    const bytes = await getObjectBytes(s3, bucket(), fileKey);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.added.sha256);
    expect((await listAllKeys(s3, bucket(), `${p.prefix}/`)).sort()).toEqual(
      [fileKey, sidecarKey].sort(),
    );
  });
});
