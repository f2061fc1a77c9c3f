import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getObjectBytes, s3ClientConfig, startS3, type S3Service } from '@archiver/testkit';
import { createS3Client } from '@archiver/core';

/**
 * Over HTTPS a large buffer body reaches the HTTP handler as a stream of slices (Node's TLS
 * would otherwise hold the whole body's ciphertext at once), and the SDK still retries it.
 */
type HandlerCall = { body: unknown };

let tls: S3Service;
beforeAll(async () => {
  tls = await startS3({ bucket: 'sliced', tls: true });
});
afterAll(async () => {
  await tls?.stop();
});

/** The client, its HTTP handler wrapped to record each call; `failFirst` cuts the first. */
function wrappedClient(failFirst: boolean): { client: S3Client; calls: HandlerCall[] } {
  const conn = tls.connection;
  const client = createS3Client(
    { bucket: conn.bucket, prefix: '', region: conn.region, forcePathStyle: true },
    s3ClientConfig(conn),
  );
  const handler = client.config.requestHandler as {
    handle(request: { body: unknown }, options: unknown): Promise<unknown>;
  };
  const handle = handler.handle.bind(handler);
  const calls: HandlerCall[] = [];
  handler.handle = (request, options) => {
    calls.push({ body: request.body });
    if (failFirst && calls.length === 1) {
      if (request.body instanceof Readable) request.body.destroy();
      return Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    }
    return handle(request, options);
  };
  return { client, calls };
}

describe('the S3 client over HTTPS', () => {
  it('hands a large buffer body to the socket in slices, bytes intact', async () => {
    const { client, calls } = wrappedClient(false);
    const bytes = randomBytes(1024 * 1024 + 7);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: tls.bucket, Key: 'sliced.bin', Body: bytes }),
      );
      expect(calls).toHaveLength(1);
      expect(calls[0]?.body).toBeInstanceOf(Readable);
      expect((await getObjectBytes(client, tls.bucket, 'sliced.bin')).equals(bytes)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('still retries such a body when the connection fails', async () => {
    const { client, calls } = wrappedClient(true);
    const bytes = randomBytes(512 * 1024);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: tls.bucket, Key: 'retried.bin', Body: bytes }),
      );
      expect(calls).toHaveLength(2);
      expect((await getObjectBytes(client, tls.bucket, 'retried.bin')).equals(bytes)).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
