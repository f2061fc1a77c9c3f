import { createHash } from 'node:crypto';
import {
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
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

/** One version of an object; `versionId` is absent where the server names none. */
export type ListedVersion = { key: string; versionId: string | undefined; lastModified: Date };

/**
 * Every version under `prefix` (a bucket with Object Lock is versioned: a failure record
 * replaced by the archived one is still there, noncurrent), one page at a time so nothing
 * more is held. Delete markers take no legal hold and are left out.
 */
export async function* listVersions(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedVersion> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      if (v.Key) {
        yield { key: v.Key, versionId: v.VersionId, lastModified: v.LastModified ?? new Date(0) };
      }
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
}

export type PassResult = {
  /** Object versions whose legal hold was put. */
  changed: number;
  /** Versions left alone: another active hold covers their key (clear only). */
  kept: number;
  /** Listed, then gone before the legal hold could be put (NoSuchKey, NoSuchVersion). */
  gone: number;
  /** SHA-256 of the versions chosen, `key versionId` a line, in listing order (sorted). */
  sha256: string;
};

/**
 * Puts `status` as the legal hold of every object version under `prefixes` that `wanted`
 * accepts, `CONCURRENCY` at a time, telling `onProgress` as it goes. Every version: a clear
 * that left an older one ON would keep it past its retention for good.
 */
export async function putLegalHolds(opts: {
  s3: S3Client;
  bucket: string;
  prefixes: string[];
  status: 'ON' | 'OFF';
  /** `keep`: left as it is, counted as kept (another hold covers it); `skip`: not counted. */
  wanted?: (o: ListedVersion) => 'change' | 'keep' | 'skip';
  onProgress?: (r: Omit<PassResult, 'sha256'>) => void;
}): Promise<PassResult> {
  const result = { changed: 0, kept: 0, gone: 0 };
  const digest = createHash('sha256');
  for (const prefix of opts.prefixes) {
    await forEachLimit(listVersions(opts.s3, opts.bucket, prefix), CONCURRENCY, async (o) => {
      const verdict = opts.wanted?.(o) ?? 'change';
      if (verdict === 'skip') return;
      if (verdict === 'keep') {
        result.kept += 1;
      } else {
        // Before the await: the lanes start in listing order, so the digest is of that order.
        digest.update(`${o.key} ${o.versionId ?? ''}\n`);
        if (await putOne(opts.s3, opts.bucket, o, opts.status)) result.changed += 1;
        else result.gone += 1;
      }
      opts.onProgress?.(result);
    });
  }
  return { ...result, sha256: digest.digest('hex') };
}

async function putOne(s3: S3Client, bucket: string, o: ListedVersion, status: 'ON' | 'OFF') {
  try {
    await s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: bucket,
        Key: o.key,
        VersionId: o.versionId,
        LegalHold: { Status: status },
      }),
    );
    return true;
  } catch (err) {
    const e = err as SdkError;
    const gone = e.name === 'NoSuchKey' || e.name === 'NoSuchVersion';
    if (gone || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}
