import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createArchiveQueue, readArchiveJob, type ArchiveQueue } from '@archiver/core';
import {
  fileWebhook,
  freePort,
  listAllKeys,
  s3ClientConfig,
  startFakeGreenApi,
  startRedis,
  type FakeGreenApi,
  type RedisService,
} from '@archiver/testkit';
import { isRunning, spawnApp, type SpawnedApp } from './process.js';

/**
 * Secrets never leave the process, end to end: a Green-API that echoes the request URL (and
 * with it the instance token) in its 400, 404 and 500 bodies, a real receiver and a real
 * worker as their own processes, traced; then every Redis key and value, every S3 object,
 * the processes' logs and the exported spans are searched for the tokens.
 */

const API_TOKEN = `echo-api-token-${randomBytes(8).toString('hex')}`;
const WEBHOOK_TOKEN = `echo-hook-token-${randomBytes(8).toString('hex')}`;
const ID_INSTANCE = '1101000077';
const RETENTION_DAYS = 15;
/** A job whose retries must end soon: its deadline is this far away when it is posted. */
const DEADLINE_IN_MS = 12_000;

/** idMessage → what the fake answers downloadFile with, the URL echoed in the body. */
const CASES = {
  ECHO400: { status: 400, body: 'Validation failed. Details: bad request data at ' },
  NOFILE400: { status: 400, body: 'File message encrypted url not found for ' },
  ECHO404: { status: 404, body: 'Not Found: no route for ' },
  ECHO500: { status: 500, body: 'Internal Server Error while serving ' },
} as const;

let redis: RedisService;
let admin: Redis;
let fake: FakeGreenApi;
let queue: ArchiveQueue;
let collector: Server;
const spanBodies: string[] = [];
const apps: SpawnedApp[] = [];
let receiverPort: number;
let workerPort: number;
const prefix = `sec${randomBytes(3).toString('hex')}`;

async function startCollector(): Promise<string> {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      spanBodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  return `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // A Redis of its own, so "every key" is this test's and nothing else's.
  redis = await startRedis();
  admin = new Redis(redis.url);
  fake = await startFakeGreenApi();
  fake.addInstance({ idInstance: ID_INSTANCE, apiTokenInstance: API_TOKEN, kind: 'whatsapp' });
  queue = createArchiveQueue(admin, prefix);
  const s3 = inject('s3');
  const endpoint = await startCollector();
  const common = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    GREEN_API_INSTANCES: JSON.stringify([
      {
        idInstance: ID_INSTANCE,
        apiTokenInstance: API_TOKEN,
        apiUrl: fake.url,
        webhookToken: WEBHOOK_TOKEN,
        kind: 'whatsapp',
      },
    ]),
    RETENTION_DAYS: String(RETENTION_DAYS),
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    // Every line a process can write, so the logs searched are the most there can be.
    LOG_LEVEL: 'debug',
  };
  apps.push(
    spawnApp('worker', {
      ...common,
      S3_BUCKET: s3.bucket,
      S3_PREFIX: `${prefix}/`,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      RETRY_BASE_DELAY_MS: '100',
      RETRY_MAX_DELAY_MS: '400',
      METRICS_PORT: String((workerPort = await freePort())),
    }),
  );
  receiverPort = await freePort();
  apps.push(spawnApp('receiver', { ...common, PORT: String(receiverPort) }));
});

afterAll(async () => {
  for (const app of apps) app.child.kill('SIGKILL');
  collector?.close();
  await queue?.close();
  await admin?.quit();
  await redis?.stop();
  await fake?.close();
});

/** Every key of the Redis and every value in it, whatever its type, as text. */
async function dumpRedis(client: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      parts.push(`${type} ${key}`);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') {
        parts.push(JSON.stringify(await client.zrange(key, 0, -1, 'WITHSCORES')));
      } else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      else throw new Error(`key ${key} of type ${type}: not dumped`);
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

/** Every object under this test's prefix: key, metadata and bytes. */
async function dumpS3(): Promise<{ keys: string[]; text: string }> {
  const s3 = inject('s3');
  const client = new S3Client(s3ClientConfig(s3));
  try {
    const keys = await listAllKeys(client, s3.bucket, `${prefix}/`);
    const parts: string[] = [];
    for (const key of keys) {
      const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
      const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      parts.push(key, JSON.stringify(head.Metadata ?? {}), await object.Body!.transformToString());
    }
    return { keys, text: parts.join('\n') };
  } finally {
    client.destroy();
  }
}

/** The token as a request could carry it: as is and percent-encoded. */
function expectNoSecret(where: string, text: string) {
  for (const secret of [API_TOKEN, WEBHOOK_TOKEN]) {
    expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
    expect(text.includes(encodeURIComponent(secret)), `${where} holds ${secret}`).toBe(false);
  }
}

describe('secrets never leave the process', () => {
  it('keeps a token that Green-API echoes in its errors out of Redis, S3, the logs and the spans', async () => {
    // The worker up first: the retried jobs' deadlines are near.
    await vi.waitFor(
      async () => {
        const worker = apps[0]!;
        if (!isRunning(worker.child)) throw new Error(`worker exited:\n${worker.output()}`);
        expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);
      },
      { timeout: 90_000, interval: 200 },
    );
    const now = Date.now();
    const jobIds: string[] = [];
    for (const [idMessage, step] of Object.entries(CASES)) {
      fake.addFile({ idInstance: ID_INSTANCE, chatId: '79001234567@c.us', idMessage });
      // Enough echoing answers for every attempt until the deadline.
      fake.scriptDownloadFile(
        idMessage,
        Array.from({ length: 200 }, () => ({ ...step, echoUrl: true })),
      );
      const permanent = step.status === 400;
      const hook = fileWebhook({
        kind: 'whatsapp',
        idInstance: ID_INSTANCE,
        chatId: '79001234567@c.us',
        idMessage,
        // The retried ones run out of time soon, so that their records are written too.
        timestamp: permanent
          ? Math.floor(now / 1000)
          : Math.floor((now + DEADLINE_IN_MS) / 1000) - RETENTION_DAYS * 86_400,
        typeMessage: 'documentMessage',
        downloadUrl: `${fake.url}/files/x/a.pdf`,
        fileName: `${idMessage}.pdf`,
        mimeType: 'application/pdf',
      });
      await vi.waitFor(
        async () => {
          const receiver = apps[1]!;
          if (!isRunning(receiver.child)) throw new Error(`receiver exited:\n${receiver.output()}`);
          const res = await fetch(`http://127.0.0.1:${receiverPort}/webhooks/green-api`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${WEBHOOK_TOKEN}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify(hook),
          });
          expect(res.status).toBe(200);
        },
        { timeout: 90_000, interval: 200 },
      );
    }
    await expect
      .poll(async () => (await queue.getJobs(['failed'])).length, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(Object.keys(CASES).length);
    for (const job of await queue.getJobs(['failed'])) jobIds.push(job.id!);

    // Each case really put the echoed path into what is kept: only its token is gone.
    const failed = await queue.getJobs(['failed']);
    for (const job of failed) {
      expect(job.failedReason).toContain(`waInstance${ID_INSTANCE}/downloadFile/[redacted]`);
    }
    const reasons = failed.map((job) => job.failedReason).join('\n');
    for (const status of ['400', '404', '500']) expect(reasons).toContain(`HTTP ${status}:`);
    for (const job of failed) {
      const read = readArchiveJob(job.data);
      expect(read.ok).toBe(true);
    }

    const { keys, text: s3Text } = await dumpS3();
    expect(keys.filter((k) => k.endsWith('/message.json'))).toHaveLength(Object.keys(CASES).length);
    expect(s3Text).toContain('[redacted]');
    expectNoSecret('S3', s3Text);

    const dump = await dumpRedis(admin);
    expect(dump).toContain('[redacted]');
    expectNoSecret('Redis', dump);

    // The worker's spans of the failed jobs, their failure events included.
    await expect
      .poll(() => spanBodies.join('\n').split('bullmq.job.failed.reason').length - 1, {
        timeout: 20_000,
      })
      .toBeGreaterThanOrEqual(Object.keys(CASES).length);
    expect(spanBodies.join('\n')).toContain('downloadFile/[redacted]');
    expectNoSecret('spans', spanBodies.join('\n'));

    for (const app of apps) expectNoSecret('logs', app.output());
    // The worker did talk to Green-API with the token (the fake checks it).
    expect(fake.count('downloadFile', { idInstance: ID_INSTANCE, status: 404 })).toBeGreaterThan(0);
  }, 180_000);
});
