import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** The part of the S3 configuration the custody objects need (the archive's own settings). */
export type CustodyS3Config = {
  bucket: string;
  prefix: string;
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
  sse?: { type: 'AES256' | 'aws:kms'; kmsKeyId?: string };
};

/**
 * Seals and their timestamp tokens in S3: written once, with the archive's Object Lock and
 * encryption. `putOnce` reads before it writes and sends `If-None-Match: *`, so a sequence
 * number taken by another sealer is never overwritten, on S3 (which enforces the header)
 * and, but for a race of milliseconds, on servers that ignore it.
 */
/**
 * The Object Lock and encryption parameters of a PUT, the same for seals as for the archive's
 * files and records, so a seal is never weaker than what it vouches for. The retention date
 * is taken at each call: it counts from the write.
 */
export function objectProtection(config: Pick<CustodyS3Config, 'objectLock' | 'sse'>) {
  return {
    ...(config.objectLock
      ? {
          ObjectLockMode: config.objectLock.mode,
          ObjectLockRetainUntilDate: new Date(Date.now() + config.objectLock.days * 86_400_000),
        }
      : {}),
    ...(config.sse
      ? { ServerSideEncryption: config.sse.type, SSEKMSKeyId: config.sse.kmsKeyId }
      : {}),
  };
}

export function createCustodyStore(client: S3Client, config: CustodyS3Config) {
  const bucket = config.bucket;
  const protection = () => objectProtection(config);

  async function exists(key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  return {
    bucket,
    prefix: config.prefix,
    exists,

    /** `taken` when the key already holds an object: the caller reads it instead. */
    async putOnce(
      key: string,
      body: Buffer,
      contentType: string,
    ): Promise<{ status: 'written'; versionId?: string } | { status: 'taken' }> {
      if (await exists(key)) return { status: 'taken' };
      try {
        const res = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            IfNoneMatch: '*',
            ChecksumAlgorithm: 'CRC32',
            ...protection(),
          }),
        );
        return { status: 'written', versionId: res.VersionId };
      } catch (err) {
        if (isTaken(err)) return { status: 'taken' };
        throw err;
      }
    },

    async get(key: string): Promise<Buffer | undefined> {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

export type CustodyStore = ReturnType<typeof createCustodyStore>;

type S3Error = { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;

export function isNotFound(err: unknown): boolean {
  const e = err as S3Error;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** 412: the key exists; 409: a concurrent conditional write to it is in progress. */
function isTaken(err: unknown): boolean {
  const status = (err as S3Error)?.$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}
