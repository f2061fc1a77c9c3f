import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import { createS3Client, type S3Config } from '@archiver/core';
import {
  getObjectBytes,
  s3ClientConfig,
  startS3,
  type S3Connection,
  type S3Service,
} from '@archiver/testkit';
import { createObjectStore } from '../src/storage/object-store.js';

/**
 * Over HTTPS the worker's S3 client sends bodies as UNSIGNED-PAYLOAD (TLS guards them, S3
 * checks their CRC32), so the bytes are not hashed a second time for SigV4; over plain HTTP
 * they stay signed. Both ways the server takes the signature and keeps the bytes whole.
 */
type Sent = { method: string; payloadHash?: string; crc32?: string; bodyHash?: string };

let tls: S3Service;
beforeAll(async () => {
  tls = await startS3({ bucket: 'tls-archive', tls: true });
});
afterAll(async () => {
  await tls?.stop();
});

/** The worker's S3 settings for the test server `conn`. */
function workerS3Config(conn: S3Connection): S3Config {
  return {
    bucket: conn.bucket,
    prefix: '',
    region: conn.region,
    forcePathStyle: true,
    endpoint: conn.endpoint,
    // No start-up probe among the requests counted here.
    conditionalWrites: 'off',
  };
}

/** The worker's client for `conn`, recording what each request carried once signed. */
function recordingClient(conn: S3Connection): { client: S3Client; sent: Sent[] } {
  const client = createS3Client(workerS3Config(conn), s3ClientConfig(conn));
  const sent: Sent[] = [];
  const record: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    const req = args.request as {
      method: string;
      headers: Record<string, string>;
      body: unknown;
    };
    const body = req.body;
    sent.push({
      method: req.method,
      payloadHash: req.headers['x-amz-content-sha256'],
      crc32: req.headers['x-amz-checksum-crc32'],
      ...(Buffer.isBuffer(body) || typeof body === 'string'
        ? { bodyHash: createHash('sha256').update(body).digest('hex') }
        : {}),
    });
    return next(args);
  };
  client.middlewareStack.addRelativeTo(record, {
    name: 'recordSent',
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
  });
  return { client, sent };
}

/** A two-part file (lib-storage parts are 8 MiB) and a sidecar, through the worker's store. */
async function archiveThrough(conn: S3Connection) {
  const { client, sent } = recordingClient(conn);
  const store = createObjectStore(client, workerS3Config(conn));
  const file = randomBytes(9 * 1024 * 1024);
  try {
    await store.putFile({
      key: 'signing/file.bin',
      body: Readable.from([file.subarray(0, 5_000_000), file.subarray(5_000_000)]),
      contentType: 'application/octet-stream',
      metadata: {},
    });
    await store.putRecord(`signing/${randomUUID()}/message.json`, {
      status: 'archived',
      idInstance: '1101000001',
      chatId: '79001234567@c.us',
      idMessage: 'SIGNING1',
      kind: 'whatsapp',
      typeWebhook: 'incomingMessageReceived',
      typeMessage: 'documentMessage',
      timestamp: 1_760_000_000,
      attempts: 1,
      message: {},
    });
    const kept = await getObjectBytes(client, conn.bucket, 'signing/file.bin');
    return { sent: sent.filter((s) => s.method === 'PUT'), kept, file };
  } finally {
    client.destroy();
  }
}

describe("the worker's S3 uploads", () => {
  it('over HTTPS: unsigned payload, CRC32 on every body, bytes intact', async () => {
    expect(tls.endpoint).toMatch(/^https:/);
    const { sent, kept, file } = await archiveThrough(tls.connection);
    // Two parts and the sidecar.
    expect(sent).toHaveLength(3);
    for (const s of sent) {
      expect(s.payloadHash).toBe('UNSIGNED-PAYLOAD');
      expect(s.crc32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    }
    expect(kept.equals(file)).toBe(true);
  });

  it('over plain HTTP: the payload stays signed by its SHA-256', async () => {
    const conn = inject('s3');
    expect(conn.endpoint).toMatch(/^http:/);
    const { sent, kept, file } = await archiveThrough(conn);
    expect(sent).toHaveLength(3);
    for (const s of sent) {
      expect(s.bodyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(s.payloadHash).toBe(s.bodyHash);
    }
    expect(kept.equals(file)).toBe(true);
  });
});
