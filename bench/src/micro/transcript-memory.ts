// Peak RSS of `archiver transcript` (the built CLI, its own process) on a chat of 100,000 text
// records against the same on 10,000, the same traffic a day (1,000 records), against s3rver:
// the measurement behind "memory does not grow with the chat" (docs/conversation.md §6). Not
// part of `pnpm bench` (it spends most of its time writing the records). Needs the CLI built.
//   RECORDS=100000 PER_DAY=1000 [CLI_NODE_OPTIONS=--max-old-space-size=40] \
//     node --conditions=@archiver/source --import tsx bench/src/micro/transcript-memory.ts
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { forEachLimit } from '@archiver/core';
import { startRedis, startS3 } from '@archiver/testkit';
import { recordObject, textRecordJob } from '../lib/fixtures.js';
import { residentMemory, spawnNode } from '../lib/spawn.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MiB } from '../lib/stats.js';

const records = Number(process.env.RECORDS ?? 100_000);
const perDay = Number(process.env.PER_DAY ?? 1000);
const small = Math.max(perDay, Math.round(records / 10));
const prefix = 'transcript-memory/';
const idInstance = '1101000001';
const t0 = Math.floor(Date.UTC(2026, 0, 1) / 1000);

const redis = await startRedis();
const s3 = await startS3({ runtime: 'local' });
try {
  const client = s3.client();
  const put = async (chatId: string, count: number) => {
    const started = Date.now();
    const ks = Array.from({ length: count }, (_, k) => k);
    await forEachLimit(ks, 32, async (k) => {
      const { key, body } = recordObject(
        prefix,
        textRecordJob({
          idInstance,
          chatId,
          idMessage: `MEM${String(k).padStart(8, '0')}`,
          // `perDay` a day, spread over it.
          timestamp:
            t0 + Math.floor(k / perDay) * 86_400 + (k % perDay) * Math.floor(86_400 / perDay),
        }),
      );
      await client.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
        }),
      );
    });
    process.stderr.write(
      `wrote ${count} records in ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  };
  await put('79000000001@c.us', small);
  await put('79000000002@c.us', records);

  const run = async (chatId: string, expected: number) => {
    const main = 'apps/cli/dist/main.js';
    const proc = spawnNode(main, [main, 'transcript', '--instance', idInstance, '--chat', chatId], {
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'transcript-memory',
      S3_BUCKET: s3.bucket,
      S3_PREFIX: prefix,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: s3.region,
      GREEN_API_ID_INSTANCE: idInstance,
      GREEN_API_TOKEN: 'bench-api-token-0-5f0c',
      // `--max-old-space-size=40` tells retention from a collector that merely waits: with a
      // list that grows with the chat the large run would run out of heap.
      ...(process.env.CLI_NODE_OPTIONS ? { NODE_OPTIONS: process.env.CLI_NODE_OPTIONS } : {}),
    });
    const started = Date.now();
    let peak = 0;
    // VmHWM only grows: its last reading before the exit is the peak.
    const watch = (async () => {
      while (proc.child.exitCode === null) {
        try {
          peak = Math.max(peak, residentMemory(proc.pid).peak);
        } catch {
          break; // gone
        }
        await sleep(100);
      }
    })();
    const line = await proc.waitForLine(`transcript: ${expected} records`, 60 * 60_000);
    await proc.exited;
    await watch;
    return {
      records: expected,
      peakMiB: round1(peak / MiB),
      seconds: (Date.now() - started) / 1000,
      line,
    };
  };
  const a = await run('79000000001@c.us', small);
  const b = await run('79000000002@c.us', records);
  console.log(
    JSON.stringify({
      perDay,
      small: a,
      large: b,
      ratio: Math.round((b.peakMiB / a.peakMiB) * 100) / 100,
    }),
  );
} finally {
  await s3.stop();
  await redis.stop();
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
