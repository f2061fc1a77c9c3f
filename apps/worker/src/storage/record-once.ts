import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '@archiver/core';

export type PutOnceResult = { written: boolean };

/**
 * Writes a conversation record once: an existing record is never replaced, so a duplicate
 * webhook, a journal find or a replay of the same message changes nothing. The HEAD answers
 * stores that ignore conditional headers (s3rver, older MinIO); `If-None-Match: *` closes the
 * gap between HEAD and PUT where the store honours it (AWS S3, MinIO), answering 412.
 */
export function createRecordOnceWriter(client: S3Client, config: S3Config) {
  const bucket = config.bucket;
  // Object Lock and encryption, as every object of the archive gets them.
  const protection = () => ({
    ...(config.objectLock
      ? {
          ObjectLockMode: config.objectLock.mode,
          ObjectLockRetainUntilDate: new Date(Date.now() + config.objectLock.days * 86_400_000),
        }
      : {}),
    ...(config.sse
      ? { ServerSideEncryption: config.sse.type, SSEKMSKeyId: config.sse.kmsKeyId }
      : {}),
  });
  return async function putRecordOnce(key: string, record: object): Promise<PutOnceResult> {
    if (await exists(client, bucket, key)) return { written: false };
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(record, null, 2),
          ContentType: 'application/json',
          ChecksumAlgorithm: 'CRC32',
          IfNoneMatch: '*',
          ...protection(),
        }),
      );
      return { written: true };
    } catch (err) {
      if (status(err) === 412) return { written: false };
      throw err;
    }
  };
}

export type PutRecordOnce = ReturnType<typeof createRecordOnceWriter>;

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    const e = err as { name?: string };
    if (e?.name === 'NotFound' || e?.name === 'NoSuchKey' || status(err) === 404) return false;
    throw err;
  }
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
