// The large-file benchmark's baseline: raw fetch of the file → lib-storage Upload with the
// worker's part size and queue (8 MiB, 4), nothing else. Prints one JSON line with its timing
// and its own peak RSS.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3ClientConfig, type S3Connection } from '@archiver/testkit';
import { ownCpuMs } from '../lib/cpu.js';

const env = process.env as Record<string, string>;
const conn = JSON.parse(env.BASELINE_S3 as string) as S3Connection;
const s3 = new S3Client(s3ClientConfig(conn));

const started = performance.now();
const cpuAtStart = ownCpuMs();
const res = await fetch(env.BASELINE_URL as string);
if (!res.ok || !res.body) throw new Error(`GET ${res.status}`);
const upload = new Upload({
  client: s3,
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
  leavePartsOnError: false,
  params: {
    Bucket: conn.bucket,
    Key: env.BASELINE_KEY as string,
    Body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    ContentType: 'application/octet-stream',
  },
});
await upload.done();
const ms = performance.now() - started;
const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
process.stdout.write(
  `${JSON.stringify({ msg: 'upload done', ms, cpuMs: ownCpuMs() - cpuAtStart, peakRss: hwm * 1024 })}\n`,
);
s3.destroy();
