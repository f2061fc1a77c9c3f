import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { errorName, httpStatus, isNotFound } from './s3-errors.js';
import type { WrittenObject } from './object-store.js';

/**
 * How a record is kept write-once. `conditional`: S3 itself refuses to overwrite
 * (`If-None-Match: *` to create, `If-Match: <etag>` to replace), so two writers can never
 * both win. `read-before-write`: for stores that ignore those headers (s3rver, older MinIO),
 * the record is read first; two writers of one key in the same instant could both write,
 * which the job id and its lock make all but impossible.
 */
export type RecordWriteMode = 'conditional' | 'read-before-write';

export type PutRecordOptions = {
  /**
   * Whether the record found at the key may be replaced: `existing` is its parsed JSON
   * (undefined when it is not JSON). Without it, nothing found is ever replaced.
   */
  mayReplace?: (existing: unknown) => boolean;
};

export type PutRecordResult =
  { written: true; replaced: boolean } | { written: false; existing: unknown };

/** A conditional write that lost every race it ran (409/412 each time). */
export class RecordConflictError extends Error {
  override name = 'RecordConflictError';
  constructor(readonly key: string) {
    super(`record ${key}: kept changing while it was written`);
  }
}

/** Rounds of create → read → replace before giving up (each lost only to another writer). */
const MAX_ROUNDS = 4;

type Found = { etag?: string; value: unknown };

/**
 * Writes JSON records that are never overwritten unless `mayReplace` says so: the archive's
 * `message.json` and every other record the worker keeps. `mode` is asked on each write, so
 * detection (detectRecordWriteMode) may finish after the store is built.
 */
export function createRecordWriter(deps: {
  client: S3Client;
  bucket: string;
  /** Object Lock (with the legal hold where one covers `key`) and encryption parameters. */
  protection: (key: string) => Promise<Record<string, unknown>>;
  mode: () => Promise<RecordWriteMode>;
  checksum: 'CRC32';
  /** The custody hook: told of every record written, before putRecord returns. */
  onWritten: (written: WrittenObject) => Promise<void>;
}) {
  const { client, bucket } = deps;

  async function put(
    key: string,
    body: Buffer,
    condition: { IfNoneMatch?: string; IfMatch?: string },
  ) {
    const res = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ChecksumAlgorithm: deps.checksum,
        ...(await deps.protection(key)),
        ...condition,
      }),
    );
    // The custody entry hashes the bytes written, not a re-serialisation.
    await deps.onWritten({
      key,
      versionId: res.VersionId,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    });
  }

  async function read(key: string): Promise<Found | undefined> {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await res.Body?.transformToString()) ?? '';
      return { etag: res.ETag, value: parseJson(text) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async function readBeforeWrite(key: string, body: Buffer, opts: PutRecordOptions) {
    const found = await read(key);
    if (found && !opts.mayReplace?.(found.value)) {
      return { written: false, existing: found.value } as const;
    }
    await put(key, body, {});
    return { written: true, replaced: found !== undefined } as const;
  }

  async function conditional(key: string, body: Buffer, opts: PutRecordOptions) {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      try {
        await put(key, body, { IfNoneMatch: '*' });
        return { written: true, replaced: false } as const;
      } catch (err) {
        if (!isLostRace(err)) throw err;
      }
      const found = await read(key);
      if (!found) continue; // removed in between: create again
      if (!opts.mayReplace?.(found.value)) {
        return { written: false, existing: found.value } as const;
      }
      // Replaces exactly the record judged: one changed meanwhile is judged again.
      if (!found.etag) throw new Error(`record ${key}: the store sent no ETag to replace it by`);
      try {
        await put(key, body, { IfMatch: found.etag });
        return { written: true, replaced: true } as const;
      } catch (err) {
        if (!isLostRace(err) && !isNotFound(err)) throw err;
      }
    }
    throw new RecordConflictError(key);
  }

  return async function putRecord(
    key: string,
    record: object,
    opts: PutRecordOptions = {},
  ): Promise<PutRecordResult> {
    const body = Buffer.from(JSON.stringify(record, null, 2), 'utf8');
    return (await deps.mode()) === 'conditional'
      ? conditional(key, body, opts)
      : readBeforeWrite(key, body, opts);
  };
}

/**
 * Asks the store whether it honours conditional writes, without leaving anything behind
 * where it does: a PUT with an `If-Match` no object can match is refused (412, or 404 as
 * there is no object) by a store that checks it, and written by one that ignores it (the
 * probe is then deleted). Any other refusal (403, 501) also reads as "ignores": reading
 * before writing works on every store.
 */
export async function detectRecordWriteMode(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<RecordWriteMode> {
  const Key = `${prefix}_archiver/conditional-write-probe`;
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key,
        Body: 'probe',
        IfMatch: '"archiver-probe-matches-no-object"',
      }),
    );
  } catch (err) {
    if (isPreconditionFailed(err) || isNotFound(err)) return 'conditional';
    if (isClientRefusal(err)) return 'read-before-write';
    throw err;
  }
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
  return 'read-before-write';
}

function isPreconditionFailed(err: unknown): boolean {
  return errorName(err) === 'PreconditionFailed' || httpStatus(err) === 412;
}

/** 412: someone else's record is there; 409: a concurrent conditional write to the key. */
function isLostRace(err: unknown): boolean {
  return (
    isPreconditionFailed(err) ||
    errorName(err) === 'ConditionalRequestConflict' ||
    httpStatus(err) === 409
  );
}

function isClientRefusal(err: unknown): boolean {
  const status = httpStatus(err);
  return status !== undefined && ((status >= 400 && status < 500) || status === 501);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
