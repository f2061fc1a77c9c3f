import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { s3ClientConfig } from '@archiver/testkit';
import {
  createCustodyLog,
  createCustodyStore,
  createSigner,
  custodyKeys,
  type SealerDeps,
} from '../src/index.js';

export function newKeyPem(): string {
  return generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** A custody log on the shared Redis and S3 under a prefix of its own. */
export function custodyContext(opts: { endpoint?: string } = {}) {
  const s3conn = inject('s3');
  const id = randomUUID().slice(0, 8);
  const prefix = `c${id}/`;
  const queuePrefix = `c${id}`;
  const redis = new Redis(inject('redisUrl'));
  const s3 = new S3Client({
    ...s3ClientConfig(s3conn),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
  const keys = custodyKeys(queuePrefix);
  const log = createCustodyLog(redis, keys);
  const store = createCustodyStore(s3, { bucket: s3conn.bucket, prefix });
  const signerPem = newKeyPem();
  const signer = createSigner(signerPem);
  const sealer = (over: Partial<SealerDeps> = {}): SealerDeps => ({
    redis,
    keys,
    log,
    store,
    signer,
    ...over,
  });

  return {
    bucket: s3conn.bucket,
    prefix,
    queuePrefix,
    redis,
    s3,
    keys,
    log,
    store,
    signer,
    signerPem,
    sealer,
    /** Writes an object as the worker would, and records its entry. */
    async put(name: string, body: string | Buffer) {
      const bytes = Buffer.from(body);
      const key = `${prefix}${name}`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: s3conn.bucket, Key: key, Body: bytes }),
      );
      await log.record({
        key,
        versionId: put.VersionId ?? null,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        time: new Date().toISOString(),
      });
      return key;
    },
    /** Writes behind the archiver's back (no entry): what an intruder or a bug does. */
    async putRaw(key: string, body: string | Buffer) {
      await s3.send(
        new PutObjectCommand({ Bucket: s3conn.bucket, Key: key, Body: Buffer.from(body) }),
      );
    },
    async remove(key: string) {
      await s3.send(new DeleteObjectCommand({ Bucket: s3conn.bucket, Key: key }));
    },
    async close() {
      const stale = await redis.keys(`${queuePrefix}:*`);
      if (stale.length > 0) await redis.del(...stale);
      await redis.quit();
      s3.destroy();
    },
  };
}

export type CustodyContext = ReturnType<typeof custodyContext>;
