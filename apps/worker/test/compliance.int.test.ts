import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf } from './corpus.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';

/**
 * s3rver neither enforces Object Lock nor encrypts, so this test checks what the worker asks
 * S3 for: a recording proxy in front of it captures every request's headers.
 */
let p: Pipeline;
let proxy: S3Proxy | undefined;
const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  proxy = await startS3Proxy(inject('s3').endpoint, (req) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    return false;
  });
  p = await startPipeline(
    {
      S3_OBJECT_LOCK_MODE: 'GOVERNANCE',
      S3_OBJECT_LOCK_DAYS: '30',
      S3_SSE: 'aws:kms',
      S3_SSE_KMS_KEY_ID: 'arn:aws:kms:eu-central-1:123456789012:key/test',
    },
    { s3Endpoint: proxy.url },
  );
});
afterAll(async () => {
  await p?.close();
  proxy?.close();
});

describe('compliance settings', () => {
  it.each([
    ['a small file (one PutObject)', 'LOCK1', 3000],
    ['a large file (multipart upload)', 'LOCK2', 9 * 1024 * 1024],
  ])(
    'puts Object Lock, SSE-KMS and a checksum on %s and on its sidecar',
    async (_label, idMessage, size) => {
      const job = fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'documentMessage',
        chatId: '13@c.us',
        idMessage,
        size,
      });
      const { jobId } = await p.writer.write(job.data);
      await expect
        .poll(() => jobState(p.queue, jobId), { timeout: 30_000, interval: 50 })
        .toBe('completed');
      const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
      const path = (key: string) =>
        `/${inject('s3').bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      // The request that creates each object: PutObject, or CreateMultipartUpload (POST ?uploads).
      const creating = (key: string) =>
        seen.find(
          (r) =>
            r.url.startsWith(path(key)) &&
            ((r.method === 'PUT' && !r.url.includes('uploadId=')) ||
              (r.method === 'POST' && r.url.includes('uploads'))),
        );
      const retainUntil = Date.now() + 30 * 86_400_000;
      for (const key of [fileKey, sidecarKey]) {
        const headers = creating(key)?.headers;
        expect(headers, key).toBeDefined();
        expect(headers?.['x-amz-object-lock-mode']).toBe('GOVERNANCE');
        expect(
          Math.abs(
            Date.parse(String(headers?.['x-amz-object-lock-retain-until-date'])) - retainUntil,
          ),
        ).toBeLessThan(120_000);
        expect(headers?.['x-amz-server-side-encryption']).toBe('aws:kms');
        expect(headers?.['x-amz-server-side-encryption-aws-kms-key-id']).toBe(
          'arn:aws:kms:eu-central-1:123456789012:key/test',
        );
        expect(
          headers?.['x-amz-checksum-crc32'] ?? headers?.['x-amz-checksum-algorithm'],
        ).toBeDefined();
      }
      // Every part of a multipart upload carries its own checksum, which S3 verifies.
      const parts = seen.filter(
        (r) => r.method === 'PUT' && r.url.startsWith(path(fileKey)) && r.url.includes('uploadId='),
      );
      if (size > 8 * 1024 * 1024) expect(parts.length).toBe(2);
      for (const part of parts) {
        expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]+=*$/);
      }
    },
  );
});
