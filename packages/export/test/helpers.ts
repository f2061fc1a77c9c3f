import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import {
  createCustodyLog,
  createCustodyStore,
  createSigner,
  custodyKeys,
  type SealerDeps,
} from '@archiver/custody';
import { s3ClientConfig } from '@archiver/testkit';

const CHUNK = 1024 * 1024;

/** An archive under a prefix of its own on the shared S3 and Redis, written as the worker does. */
export function exportContext() {
  const conn = inject('s3');
  const id = randomUUID().slice(0, 8);
  const prefix = `export-${id}/`;
  const redis = new Redis(inject('redisUrl'));
  const s3 = new S3Client(s3ClientConfig(conn));
  const keys = custodyKeys(`export-${id}`);
  const log = createCustodyLog(redis, keys);
  const store = createCustodyStore(s3, { bucket: conn.bucket, prefix });
  const signer = createSigner(
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const record = (key: string, sha256: string, size: number) =>
    log.record({ key, versionId: null, sha256, size, time: new Date().toISOString() });

  return {
    bucket: conn.bucket,
    prefix,
    redis,
    s3,
    keys,
    store,
    sealer: (over: Partial<SealerDeps> = {}): SealerDeps => ({
      redis,
      keys,
      log,
      store,
      signer,
      ...over,
    }),
    async putBytes(key: string, body: Buffer) {
      await s3.send(new PutObjectCommand({ Bucket: conn.bucket, Key: key, Body: body }));
      await record(key, createHash('sha256').update(body).digest('hex'), body.length);
    },
    /** `size` bytes streamed from a generator (never held whole), entered in the log. */
    async putObject(key: string, size: number) {
      const hash = createHash('sha256');
      const body = Readable.from(
        (function* () {
          for (let at = 0; at < size; at += CHUNK) {
            const chunk = Buffer.alloc(Math.min(CHUNK, size - at), at / CHUNK);
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      await s3.send(
        new PutObjectCommand({ Bucket: conn.bucket, Key: key, Body: body, ContentLength: size }),
      );
      const sha256 = hash.digest('hex');
      await record(key, sha256, size);
      return { sha256, size };
    },
    async close() {
      const stale = await redis.keys(`export-${id}:*`);
      if (stale.length > 0) await redis.del(...stale);
      await redis.quit();
      s3.destroy();
    },
  };
}

export type ExportContext = ReturnType<typeof exportContext>;
