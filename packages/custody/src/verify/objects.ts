import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseSealKey } from '../custody-keys.js';
import type { CustodyFinding } from './findings.js';
import { listObjects } from './listing.js';
import type { Partitions } from './partitions.js';

/**
 * Streams every object under the prefix (but the seals themselves) through SHA-256 and puts
 * what it found in the partitions: `concurrency` objects in flight, nothing else held.
 */
export async function hashObjects(opts: {
  s3: S3Client;
  bucket: string;
  prefix: string;
  concurrency: number;
  partitions: Partitions;
  report: (f: CustodyFinding) => void;
  onObject?: (bytes: number) => void;
}): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let count = 0;
  for await (const object of listObjects(opts.s3, opts.bucket, opts.prefix)) {
    if (parseSealKey(opts.prefix, object.key) !== undefined) continue;
    count += 1;
    const task = (async () => {
      try {
        const found = await digestOf(opts.s3, opts.bucket, object.key);
        const lastModified = object.lastModified.toISOString();
        opts.partitions.add(
          object.key,
          `O\t${JSON.stringify({ key: object.key, ...found, lastModified })}`,
        );
        opts.onObject?.(found.size);
      } catch (err) {
        opts.report({ problem: 'object_error', key: object.key, detail: (err as Error).message });
      }
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    if (inFlight.size >= opts.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return count;
}

async function digestOf(s3: S3Client, bucket: string, key: string) {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(res.Body instanceof Readable)) throw new Error('unexpected GetObject body');
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.Body as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  // A versioned bucket names the version a GET read: `join` compares it with the sealed one.
  return { versionId: res.VersionId ?? null, sha256: hash.digest('hex'), size };
}
