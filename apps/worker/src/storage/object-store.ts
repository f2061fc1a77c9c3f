import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { sidecarSchema, type HoldCache, type S3Config, type Sidecar } from '@archiver/core';
import { objectProtection } from '@archiver/custody';
import { uploadStream } from './multipart.js';
import { createRecordWriter, detectRecordWriteMode, type RecordWriteMode } from './records.js';
import { isNotFound, isNotImplemented } from './s3-errors.js';

/**
 * 8 MiB parts through two reused buffers: memory per upload does not grow with the file's
 * size. 16 uploads of 100 MiB at once took about 21 MiB each over HTTPS (docs/operations.md,
 * "Scaling workers"), from 83 MiB with lib-storage's four parts in flight (BENCHMARKS.md).
 */
const PART_SIZE = 8 * 1024 * 1024;
const PART_BUFFERS = 2;
/**
 * The checksum S3 verifies on every upload and part: transfer integrity. CRC32 (zlib's, about
 * twice SHA-256's speed here) rather than SHA-256: the worker already hashes every byte with
 * SHA-256 for the sidecar, the evidence of what was archived, and a second SHA-256 pass cost
 * a tenth of the large-file throughput on two cores (BENCHMARKS.md).
 */
const S3_CHECKSUM = 'CRC32';

export type PutFileArgs = {
  key: string;
  body: Readable;
  contentType: string;
  metadata: Record<string, string>;
  signal?: AbortSignal;
  /**
   * SHA-256 (hex) and size of the bytes `body` gave, once it ended: the download already
   * hashes them for the sidecar. Without it the store hashes the body itself.
   */
  digest?: () => { sha256: string; size: number };
};

/** What the store wrote: every object, as the custody log records it. */
export type WrittenObject = { key: string; versionId?: string; sha256: string; size: number };

export type ObjectStoreOptions = {
  /**
   * Called after every object the store wrote, before the write returns; a failure fails the
   * write (the job retries and writes again). Every write method must report here: it is the
   * custody log's one hook.
   */
  onWritten?: (written: WrittenObject) => Promise<void>;
  /**
   * The active legal holds (docs/legal-hold.md): an object written into a held selection
   * carries `x-amz-object-lock-legal-hold: ON` from its first byte. Absent: no hold is looked up.
   */
  holds?: HoldCache;
};

export type ObjectStore = ReturnType<typeof createObjectStore>;

/**
 * The archive's S3 side. Every write carries the Object Lock and encryption settings, and a
 * checksum S3 verifies. A failed upload aborts its multipart upload, so no partial object is
 * ever visible.
 */
export function createObjectStore(
  client: S3Client,
  config: S3Config,
  opts: ObjectStoreOptions = {},
) {
  const bucket = config.bucket;
  const report = opts.onWritten ?? (async () => undefined);
  const configured = config.conditionalWrites ?? 'auto';
  let detected: Promise<RecordWriteMode> | undefined;
  /** S3_CONDITIONAL_WRITES, or the store's answer to one probe (asked again if it failed). */
  function recordWriteMode(): Promise<RecordWriteMode> {
    if (configured === 'on') return Promise.resolve('conditional');
    if (configured === 'off') return Promise.resolve('read-before-write');
    detected ??= detectRecordWriteMode(client, bucket, config.prefix).catch((err: unknown) => {
      detected = undefined;
      throw err;
    });
    return detected;
  }

  async function protection(key: string) {
    const held = (await opts.holds?.covers(key)) === true;
    return {
      ...objectProtection(config),
      ...(held ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
    };
  }

  return {
    bucket,
    recordWriteMode,

    /**
     * Writes a JSON record write-once: a record already at `key` is kept unless
     * `mayReplace` accepts it (records.ts). Every record the worker keeps goes through here.
     */
    putRecord: createRecordWriter({
      client,
      bucket,
      protection,
      mode: recordWriteMode,
      checksum: S3_CHECKSUM,
      onWritten: report,
    }),

    async putFile(args: PutFileArgs): Promise<void> {
      const { body, digest } = args.digest
        ? { body: args.body, digest: args.digest }
        : hashing(args.body);
      const { versionId } = await uploadStream(
        client,
        {
          Bucket: bucket,
          Key: args.key,
          ContentType: args.contentType,
          Metadata: args.metadata,
          ...(await protection(args.key)),
        },
        body,
        { partSize: PART_SIZE, buffers: PART_BUFFERS, signal: args.signal },
      );
      const { sha256, size } = digest();
      await report({ key: args.key, versionId, sha256, size });
    },

    /**
     * The sidecar at `key`, or undefined when there is none or it is not a readable record
     * (an empty or cut object left by a crash): the job then archives as if there were none,
     * and writes a whole one.
     */
    async readSidecar(key: string): Promise<Sidecar | undefined> {
      let text: string;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        text = (await res.Body?.transformToString()) ?? '';
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const parsed = sidecarSchema.safeParse(parseJson(text));
      return parsed.success ? parsed.data : undefined;
    },

    async exists(key: string): Promise<boolean> {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    /**
     * Aborts multipart uploads left at `key` by a process killed mid-upload. Servers that do
     * not list multipart uploads (s3rver) are skipped: there the bucket's lifecycle rule
     * `AbortIncompleteMultipartUpload` is the backstop.
     */
    async abortStaleUploads(key: string): Promise<number> {
      try {
        const res = await client.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }),
        );
        const stale = (res.Uploads ?? []).filter((u) => u.Key === key && u.UploadId);
        for (const u of stale) {
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId }),
          );
        }
        return stale.length;
      } catch (err) {
        if (isNotImplemented(err)) return 0;
        throw err;
      }
    },

    async ping(): Promise<void> {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },
  };
}

/** `body` through a pass-through that hashes it, for bodies nobody hashed yet. */
function hashing(body: Readable): { body: Readable; digest(): { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  body.on('error', (err) => meter.destroy(err));
  return {
    body: body.pipe(meter),
    digest: () => ({ sha256: (sha256 ??= hash.digest('hex')), size }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
