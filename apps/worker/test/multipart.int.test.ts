import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@archiver/core';
import { getObjectBytes, s3ClientConfig } from '@archiver/testkit';
import { uploadStream } from '../src/storage/multipart.js';
import { startS3Proxy, type S3Proxy } from './s3-proxy.js';

/**
 * The worker's multipart upload, through a proxy that sees (and may refuse) each request.
 * 5 MiB parts: S3's (and s3rver's) smallest part but the last.
 */
const PART = 5 * 1024 * 1024;
const CHUNK = 64 * 1024;

type Seen = { method: string; url: string };
let proxy: S3Proxy;
let client: S3Client;
const seen: Seen[] = [];
let completedParts = 0;
let refusePart: number | undefined;

beforeAll(async () => {
  proxy = await startS3Proxy(inject('s3').endpoint, (req, res) => {
    const url = req.url ?? '';
    seen.push({ method: req.method ?? '', url });
    const part = /[?&]partNumber=(\d+)/.exec(url);
    if (part && Number(part[1]) === refusePart) {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end('<Error><Code>InvalidArgument</Code><Message>refused</Message></Error>');
      return true;
    }
    if (part) res.once('finish', () => (completedParts += 1));
    return false;
  });
  const conn = { ...inject('s3'), endpoint: proxy.url };
  client = createS3Client(
    { bucket: conn.bucket, prefix: '', region: conn.region, forcePathStyle: true },
    s3ClientConfig(conn),
  );
});
afterAll(() => {
  client?.destroy();
  proxy?.close();
});

/** `size` random bytes, handed out in 64 KiB chunks as they are read; `pulled` counts them. */
function source(size: number) {
  const bytes = randomBytes(size);
  const state = { pulled: 0, maxAhead: 0, destroyed: false };
  const body = new Readable({
    read() {
      const end = Math.min(state.pulled + CHUNK, size);
      if (state.pulled >= size) return void this.push(null);
      this.push(bytes.subarray(state.pulled, end));
      state.pulled = end;
      // Bytes read but not yet stored by S3: what the upload holds.
      state.maxAhead = Math.max(state.maxAhead, state.pulled - completedParts * PART);
    },
    destroy(err, callback) {
      state.destroyed = true;
      callback(err);
    },
  });
  return { bytes, body, state };
}

function reset() {
  seen.length = 0;
  completedParts = 0;
  refusePart = undefined;
}

const params = (key: string) => ({
  Bucket: inject('s3').bucket,
  Key: key,
  ContentType: 'application/octet-stream',
  Metadata: {},
});

describe('uploadStream', () => {
  it('holds at most two parts of a large body, and stores it whole', async () => {
    reset();
    const { bytes, body, state } = source(6 * PART + 123);
    await uploadStream(client, params('mp/large.bin'), body, { partSize: PART, buffers: 2 });
    expect((await getObjectBytes(client, inject('s3').bucket, 'mp/large.bin')).equals(bytes)).toBe(
      true,
    );
    expect(seen.filter((s) => /partNumber=/.test(s.url))).toHaveLength(7);
    // Two parts, and what the body's stream had buffered on top.
    expect(state.maxAhead).toBeLessThanOrEqual(2 * PART + 2 * CHUNK);
  });

  it('sends a body of exactly one part as one PutObject, and one byte more as two parts', async () => {
    reset();
    const one = source(PART);
    await uploadStream(client, params('mp/one.bin'), one.body, { partSize: PART, buffers: 2 });
    expect(seen.map((s) => s.method)).toEqual(['PUT']);
    expect(seen[0]?.url).not.toMatch(/uploadId|uploads/);

    reset();
    const two = source(PART + 1);
    await uploadStream(client, params('mp/two.bin'), two.body, { partSize: PART, buffers: 2 });
    expect(seen.filter((s) => /partNumber=/.test(s.url))).toHaveLength(2);
    const kept = await getObjectBytes(client, inject('s3').bucket, 'mp/two.bin');
    expect(kept.equals(two.bytes)).toBe(true);
  });

  it('aborts the multipart upload and lets the body go when a part is refused', async () => {
    reset();
    refusePart = 2;
    const { body, state } = source(8 * PART);
    await expect(
      uploadStream(client, params('mp/refused.bin'), body, { partSize: PART, buffers: 2 }),
    ).rejects.toThrow(/refused/);
    expect(state.destroyed).toBe(true);
    expect(state.pulled).toBeLessThan(8 * PART);
    expect(seen.some((s) => s.method === 'DELETE' && /uploadId=/.test(s.url))).toBe(true);
    expect(seen.some((s) => s.method === 'POST' && /uploadId=/.test(s.url))).toBe(false);
  });

  it("stops on the signal with the signal's reason, and aborts the multipart upload", async () => {
    reset();
    const { body, state } = source(8 * PART);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const upload = uploadStream(client, params('mp/aborted.bin'), body, {
      partSize: PART,
      buffers: 2,
      signal: controller.signal,
    });
    await expect.poll(() => completedParts).toBeGreaterThanOrEqual(1);
    controller.abort(reason);
    await expect(upload).rejects.toBe(reason);
    expect(state.destroyed).toBe(true);
    expect(seen.some((s) => s.method === 'DELETE' && /uploadId=/.test(s.url))).toBe(true);
  });
});
