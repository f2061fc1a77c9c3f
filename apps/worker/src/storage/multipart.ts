import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/** What both a single PutObject and a CreateMultipartUpload carry. */
export type ObjectParams = Pick<
  PutObjectCommandInput,
  | 'Bucket'
  | 'Key'
  | 'ContentType'
  | 'Metadata'
  | 'ObjectLockMode'
  | 'ObjectLockRetainUntilDate'
  | 'ObjectLockLegalHoldStatus'
  | 'ServerSideEncryption'
  | 'SSEKMSKeyId'
>;

export type StreamUploadOptions = {
  partSize: number;
  /** Part buffers per upload: one filling from the body while the other is sent, or both sent. */
  buffers: number;
  signal?: AbortSignal;
};

/**
 * Uploads `body` to S3 holding at most `buffers` part buffers, reused from part to part, and
 * returns the object's version (on a versioned bucket). Not lib-storage's Upload: that one
 * concatenates each part into a fresh buffer and keeps `queueSize` of them in flight, plus
 * the one it is filling, so a large file took 4 to 5 parts and their garbage (BENCHMARKS.md). A body no longer than one part is one PutObject, as
 * lib-storage does. Each part carries its CRC32, which S3 verifies; a failure or an abort
 * aborts the multipart upload, so no partial object is ever visible.
 */
export async function uploadStream(
  client: S3Client,
  params: ObjectParams,
  body: Readable,
  opts: StreamUploadOptions,
): Promise<{ versionId?: string }> {
  const { partSize } = opts;
  const stop = new AbortController();

  // Before the body passes one part, it is kept as it came (most files are small: no part
  // buffer is taken for them).
  const head: Buffer[] = [];
  let headBytes = 0;
  let created: Promise<string> | undefined;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  const free: Buffer[] = [];
  let allocated = 0;
  let failure: unknown;
  let current: Buffer | undefined;
  let filled = 0;
  let nextPart = 1;

  // The first failure stops everything: parts in flight are cut and the body is let go (which
  // closes its connection), so the loop below does not wait for bytes it will never use.
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    stop.abort(err);
    body.destroy();
  };
  const onAbort = () => fail(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  async function takeBuffer(): Promise<Buffer> {
    for (;;) {
      if (failure !== undefined) throw failure;
      const buffer = free.pop();
      if (buffer) return buffer;
      if (allocated < opts.buffers) {
        allocated += 1;
        return Buffer.allocUnsafeSlow(partSize);
      }
      await Promise.race(inFlight);
    }
  }

  function send(buffer: Buffer, length: number): void {
    const partNumber = nextPart;
    nextPart += 1;
    const data = buffer.subarray(0, length);
    const sent = (async () => {
      const uploadId = await (created as Promise<string>);
      const res = await client.send(
        new UploadPartCommand({
          Bucket: params.Bucket,
          Key: params.Key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: data,
          ChecksumCRC32: crc32Base64(data),
        }),
        { abortSignal: stop.signal },
      );
      if (!res.ETag) throw new Error(`S3 UploadPart ${partNumber} returned no ETag`);
      parts.push({
        PartNumber: partNumber,
        ETag: res.ETag,
        ...(res.ChecksumCRC32 ? { ChecksumCRC32: res.ChecksumCRC32 } : {}),
      });
      free.push(buffer);
    })()
      .catch(fail)
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  }

  async function feed(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      current ??= await takeBuffer();
      const copied = chunk.copy(current, filled, offset);
      filled += copied;
      offset += copied;
      if (filled === partSize) {
        send(current, filled);
        current = undefined;
        filled = 0;
      }
    }
  }

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (failure !== undefined) throw failure;
      if (created) {
        await feed(chunk);
        continue;
      }
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes <= partSize) continue;
      created = createUpload(client, params, stop.signal);
      created.catch(fail);
      for (const held of head.splice(0)) await feed(held);
    }
    if (!created) {
      const whole = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head);
      const put = await client.send(
        new PutObjectCommand({ ...params, Body: whole, ChecksumAlgorithm: 'CRC32' }),
        { abortSignal: stop.signal },
      );
      return { versionId: put.VersionId };
    }
    if (filled > 0) send(current as Buffer, filled);
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const completed = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: params.Bucket,
        Key: params.Key,
        UploadId: await created,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: stop.signal },
    );
    return { versionId: completed.VersionId };
  } catch (err) {
    fail(err);
    await Promise.allSettled(inFlight);
    const uploadId = await created?.catch(() => undefined);
    if (uploadId) {
      await client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: params.Bucket,
            Key: params.Key,
            UploadId: uploadId,
          }),
        )
        .catch(() => undefined);
    }
    throw opts.signal?.aborted ? (opts.signal.reason ?? failure) : failure;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function createUpload(
  client: S3Client,
  params: ObjectParams,
  signal: AbortSignal,
): Promise<string> {
  const res = await client.send(
    new CreateMultipartUploadCommand({ ...params, ChecksumAlgorithm: 'CRC32' }),
    { abortSignal: signal },
  );
  if (!res.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
  return res.UploadId;
}

/** The part's CRC32 as S3 takes it: four big-endian bytes, base64. */
function crc32Base64(data: Buffer): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc32(data));
  return bytes.toString('base64');
}
