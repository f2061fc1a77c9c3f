import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { SEAL_QUEUE, createCustodyLog, custodyKeys } from '@archiver/custody';
import { getObjectBytes, listAllKeys, s3ClientConfig } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob } from './corpus.js';
import { startVersioningProxy } from '../../../packages/custody/test/versioning-proxy.js';

const signingKey = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

async function entriesOf(pipeline: Pipeline) {
  const redis = new Redis(inject('redisUrl'));
  try {
    const log = createCustodyLog(redis, custodyKeys(pipeline.prefix));
    return (await log.pending(10_000)).map((e) => e.entry);
  } finally {
    await redis.quit();
  }
}

describe('custody log: the object store hook', () => {
  it('enters every object the worker wrote, files and records, with the SHA-256 and size of its bytes', async () => {
    p = await startPipeline({ SEAL_SIGNING_KEY: signingKey() });
    const ok = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001234567@c.us',
      idMessage: 'CUSTODYOK',
      size: 5000,
    });
    const tooLarge = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '79001234567@c.us',
      idMessage: 'CUSTODYBIG',
      downloadUrl: '{{SWE002}}',
    });
    const ids = await Promise.all([p.writer.write(ok.data), p.writer.write(tooLarge.data)]);
    for (const { jobId } of ids) {
      await expect
        .poll(() => jobState(p!.queue, jobId), { timeout: 20_000 })
        .toMatch(/completed|failed/);
    }
    const s3conn = inject('s3');
    const s3 = new S3Client(s3ClientConfig(s3conn));
    try {
      const all = await listAllKeys(s3, s3conn.bucket, `${p.prefix}/`);
      // the worker may have sealed already (its scheduler runs once at start-up too)
      const seals = all.filter((k) => k.includes('/_custody/seals/'));
      const keys = all.filter((k) => !seals.includes(k));
      expect(keys).toHaveLength(3); // a file, its sidecar, a failure record
      const entries = [...(await entriesOf(p))];
      for (const seal of seals) {
        const parsed = JSON.parse((await getObjectBytes(s3, s3conn.bucket, seal)).toString()) as {
          entries: typeof entries;
        };
        entries.push(...parsed.entries);
      }
      expect(entries.map((e) => e.key).sort()).toEqual(keys);
      for (const e of entries) {
        const bytes = await getObjectBytes(s3, s3conn.bucket, e.key);
        expect(e.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(e.size).toBe(bytes.length);
        expect(e.versionId).toBeNull(); // s3rver has no versioning
      }
    } finally {
      s3.destroy();
    }
  });

  it('enters the version id each write made where the bucket keeps versions', async () => {
    const proxy = await startVersioningProxy(inject('s3').endpoint);
    try {
      p = await startPipeline({ SEAL_SIGNING_KEY: signingKey() }, { s3Endpoint: proxy.url });
      const ok = fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'documentMessage',
        chatId: '79001234567@c.us',
        idMessage: 'CUSTODYVERSIONED',
        size: 2000,
      });
      const { jobId } = await p.writer.write(ok.data);
      await expect.poll(() => jobState(p!.queue, jobId), { timeout: 20_000 }).toBe('completed');
      const entries = await entriesOf(p);
      // the file and its record
      expect(entries).toHaveLength(2);
      expect(entries.filter((e) => e.key.endsWith('/CUSTODYVERSIONED/message.json'))).toHaveLength(
        1,
      );
      for (const e of entries) {
        expect(e.versionId).toMatch(/^v\d{6}$/);
        expect(e.versionId).toBe(proxy.versionOf(e.key));
      }
    } finally {
      await p?.close();
      p = undefined;
      proxy.close();
    }
  });

  it('records nothing without SEAL_SIGNING_KEY (nothing would seal it)', async () => {
    p = await startPipeline();
    const ok = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001234567@c.us',
      idMessage: 'CUSTODYOFF',
      size: 100,
    });
    const { jobId } = await p.writer.write(ok.data);
    await expect.poll(() => jobState(p!.queue, jobId), { timeout: 20_000 }).toBe('completed');
    expect(await entriesOf(p)).toEqual([]);
  });
});

describe('custody: the worker seals', () => {
  it('seals what it archived within SEAL_INTERVAL_MINUTES and reports it on /metrics', async () => {
    // 0.05 min = 3 s: the scheduler runs every 1.5 s
    p = await startPipeline({ SEAL_SIGNING_KEY: signingKey(), SEAL_INTERVAL_MINUTES: '0.05' });
    const ok = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001234567@c.us',
      idMessage: 'CUSTODYSEALED',
      size: 300,
    });
    const { jobId } = await p.writer.write(ok.data);
    await expect.poll(() => jobState(p!.queue, jobId), { timeout: 20_000 }).toBe('completed');
    const written = Date.now();
    const s3conn = inject('s3');
    const s3 = new S3Client(s3ClientConfig(s3conn));
    try {
      const sealKey = `${p.prefix}/_custody/seals/000000000001.json`;
      await expect
        .poll(async () => (await listAllKeys(s3, s3conn.bucket, `${p!.prefix}/_custody/`)).length, {
          timeout: 10_000,
          interval: 100,
        })
        .toBe(1);
      expect(Date.now() - written).toBeLessThan(3000 + 1000);
      const seal = JSON.parse((await getObjectBytes(s3, s3conn.bucket, sealKey)).toString()) as {
        entries: Array<{ key: string }>;
      };
      expect(seal.entries.map((e) => e.key).sort()).toEqual(
        (await listAllKeys(s3, s3conn.bucket, `${p.prefix}/`)).filter(
          (k) => !k.includes('_custody/'),
        ),
      );
      expect(await entriesOf(p)).toEqual([]);
      const metrics = await (await fetch(`http://127.0.0.1:${p.worker!.port}/metrics`)).text();
      expect(metrics).toMatch(/^archiver_custody_seals_total 1$/m);
      expect(metrics).toMatch(/^archiver_custody_entries_waiting 0$/m);
      expect(metrics).toMatch(/^archiver_custody_oldest_unsealed_seconds 0$/m);
      expect(metrics).toMatch(/^archiver_custody_seal_interval_seconds 3$/m);

      // Turned off again: the periodic seal goes with the key.
      const schedulers = new Queue(SEAL_QUEUE, { connection: p.producer, prefix: p.prefix });
      try {
        expect(await schedulers.getJobSchedulers()).toHaveLength(1);
        await p.restartWorker({ custody: { intervalMinutes: 60 } });
        expect(await schedulers.getJobSchedulers()).toEqual([]);
      } finally {
        await schedulers.close();
      }
    } finally {
      s3.destroy();
    }
  });
});
