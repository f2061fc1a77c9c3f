// The recording benchmark's baseline: the PUT a record job makes (one JSON record per text
// event, to the same S3, with the same checksum and write-once condition), at the same
// concurrency, with no queue, no Redis and no custody log.
import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig, type S3Connection } from '@archiver/testkit';
import { ownCpuMs } from '../lib/cpu.js';
import { inLanes } from '../lib/lanes.js';

type Task = { key: string; body: string };

const env = process.env as Record<string, string>;
const tasks = JSON.parse(readFileSync(env.BASELINE_TASKS as string, 'utf8')) as Task[];
const conn = JSON.parse(env.BASELINE_S3 as string) as S3Connection;
const concurrency = Number(env.BASELINE_CONCURRENCY);
const s3 = new S3Client(s3ClientConfig(conn));

/** A PUT as the worker's record writer makes it (apps/worker/src/storage/records.ts). */
function put(t: Task) {
  return s3.send(
    new PutObjectCommand({
      Bucket: conn.bucket,
      Key: t.key,
      Body: Buffer.from(t.body),
      ContentType: 'application/json',
      ChecksumAlgorithm: 'CRC32',
      IfNoneMatch: '*',
    }),
  );
}

const started = Date.now();
const failed = await inLanes(tasks, concurrency, put, (t) => t.key);
process.stdout.write(
  `${JSON.stringify({ msg: 'baseline done', started, ended: Date.now(), records: tasks.length, failed, cpuMs: ownCpuMs() })}\n`,
);
s3.destroy();
