import { createHash } from 'node:crypto';
import {
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { forEachLimit } from '@archiver/core';

/** PutObjectLegalHold calls in flight: a few, so memory stays flat and S3 is not flooded. */
const CONCURRENCY = 8;

export type ObjectLockSupport = { enabled: true } | { enabled: false; why: string };

type SdkError = { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };

/**
 * Whether the bucket has Object Lock, from GetObjectLockConfiguration: S3 and MinIO answer
 * `ObjectLockEnabled: Enabled` for a bucket created with it and
 * ObjectLockConfigurationNotFoundError otherwise; servers without Object Lock (s3rver)
 * answer something else, or refuse the request. Only an unreachable or failing S3 throws.
 */
export async function objectLockSupport(s3: S3Client, bucket: string): Promise<ObjectLockSupport> {
  try {
    const res = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    if (res.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled') return { enabled: true };
    return { enabled: false, why: 'GetObjectLockConfiguration names no Object Lock' };
  } catch (err) {
    const e = err as SdkError;
    const status = e.$metadata?.httpStatusCode;
    if (status === 403) throw err;
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
      return { enabled: false, why: `GetObjectLockConfiguration: ${e.name ?? status}` };
    }
    if (status === 501 || e.name === 'NotImplemented') {
      return { enabled: false, why: 'GetObjectLockConfiguration is not implemented' };
    }
    throw err;
  }
}

export type ListedKey = { key: string; lastModified: Date };

/** Every object under `prefix`, one page (≤ 1000 keys) at a time: nothing more is held. */
export async function* listPrefix(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedKey> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) yield { key: o.Key, lastModified: o.LastModified ?? new Date(0) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

export type PassResult = {
  /** Objects whose legal hold was put. */
  changed: number;
  /** Objects left alone: another active hold covers them (clear only). */
  kept: number;
  /** Listed, then gone before the legal hold could be put (NoSuchKey). */
  gone: number;
  /** SHA-256 of the keys chosen for the change, one a line, in listing order (sorted). */
  sha256: string;
};

/**
 * Puts `status` as the legal hold of every object under `prefixes` that `wanted` accepts,
 * `CONCURRENCY` at a time, telling `onProgress` as it goes. The current version of each key
 * is held (ListObjectsV2 names no version).
 */
export async function putLegalHolds(opts: {
  s3: S3Client;
  bucket: string;
  prefixes: string[];
  status: 'ON' | 'OFF';
  /** `keep`: left as it is, counted as kept (another hold covers it); `skip`: not counted. */
  wanted?: (o: ListedKey) => 'change' | 'keep' | 'skip';
  onProgress?: (r: Omit<PassResult, 'sha256'>) => void;
}): Promise<PassResult> {
  const result = { changed: 0, kept: 0, gone: 0 };
  const digest = createHash('sha256');
  for (const prefix of opts.prefixes) {
    await forEachLimit(listPrefix(opts.s3, opts.bucket, prefix), CONCURRENCY, async (o) => {
      const verdict = opts.wanted?.(o) ?? 'change';
      if (verdict === 'skip') return;
      if (verdict === 'keep') {
        result.kept += 1;
      } else {
        // Before the await: the lanes start in listing order, so the digest is of that order.
        digest.update(`${o.key}\n`);
        if (await putOne(opts.s3, opts.bucket, o.key, opts.status)) result.changed += 1;
        else result.gone += 1;
      }
      opts.onProgress?.(result);
    });
  }
  return { ...result, sha256: digest.digest('hex') };
}

async function putOne(s3: S3Client, bucket: string, key: string, status: 'ON' | 'OFF') {
  try {
    await s3.send(
      new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, LegalHold: { Status: status } }),
    );
    return true;
  } catch (err) {
    const e = err as SdkError;
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}
