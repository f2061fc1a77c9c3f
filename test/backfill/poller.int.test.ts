import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  GreenApiNetworkError,
  MAX,
  WA,
  archiveJobId,
  archiveJobs,
  counterValue,
  createArchiver,
  createArchiveQueueFor,
  createGreenApiClient,
  createPoller,
  createRedis,
  dropPrefix,
  fileWebhook,
  freePort,
  silentLogger,
  startFakeGreenApi,
  startPoller,
  startRedis,
  stateInstanceChangedWebhook,
  testConfig,
  textWebhook,
  uniquePrefix,
  type Config,
  type FakeGreenApi,
  type InstanceConfig,
} from './support.js';

const redisUrl = inject('redisUrl');
const FILE_PREFIX = uniquePrefix('poller');
const CHAT = '79001234567@c.us';

let fake: FakeGreenApi;
let redis: ReturnType<typeof createRedis>;
let config: Config;
let n = 0;

beforeAll(() => {
  redis = createRedis(redisUrl, 'worker');
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(async () => {
  n += 1;
  fake = await startFakeGreenApi();
  fake.addInstance(WA);
  fake.addInstance(MAX);
  config = testConfig({
    fake,
    redisUrl,
    prefix: `${FILE_PREFIX}-${n}`,
    instances: [{ ...WA, delivery: 'poll' }, MAX],
  });
});

afterEach(async () => {
  await fake.close();
  await dropPrefix(redis, config.queuePrefix);
});

const nowS = () => Math.floor(Date.now() / 1000);

/** Pushes a file message notification; returns its receiptId and the archive job id it must become. */
function pushFile(instance: typeof WA | typeof MAX, idMessage: string) {
  const added = fake.addFile({
    idInstance: instance.idInstance,
    chatId: CHAT,
    idMessage,
    size: 32,
  });
  const body = fileWebhook({
    kind: instance.kind,
    idInstance: instance.idInstance,
    chatId: CHAT,
    idMessage,
    timestamp: nowS(),
    typeMessage: 'documentMessage',
    downloadUrl: added.downloadUrl,
  });
  return {
    receiptId: fake.pushNotification(instance.idInstance, body),
    jobId: archiveJobId(instance.idInstance, CHAT, idMessage),
  };
}

const waInstance = (cfg: Config): InstanceConfig => {
  const instance = cfg.instances.find((i) => i.idInstance === WA.idInstance);
  if (!instance) throw new Error('WA instance missing from config');
  return instance;
};

describe('poller', () => {
  it('ingests pushed notifications, enqueues file jobs, and deletes each only after it is stored', async () => {
    const archiver = createArchiver(redis, config);
    // What must be in Redis before each notification may be deleted.
    const storedBeforeDelete = new Map<number, () => Promise<boolean>>();
    const files = [1, 2, 3, 4].map((i) => pushFile(WA, `POLL-${n}-${i}`));
    for (const f of files) {
      storedBeforeDelete.set(
        f.receiptId,
        async () => (await archiver.queue.getJob(f.jobId)) !== undefined,
      );
    }
    const text = textWebhook({
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      chatId: CHAT,
      idMessage: `TEXT-${n}`,
      timestamp: nowS(),
      textMessage: 'hi',
    });
    storedBeforeDelete.set(fake.pushNotification(WA.idInstance, text), () => Promise.resolve(true));
    const state = stateInstanceChangedWebhook({
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      timestamp: nowS(),
      stateInstance: 'authorized',
    });
    storedBeforeDelete.set(fake.pushNotification(WA.idInstance, state), () =>
      Promise.resolve(true),
    );
    const odd = {
      typeWebhook: 'somethingNew',
      instanceData: { idInstance: Number(WA.idInstance) },
    };
    storedBeforeDelete.set(
      fake.pushNotification(WA.idInstance, odd),
      async () => (await archiver.quarantine.size()) === 1,
    );

    const deletes: Array<{ receiptId: number; stored: boolean }> = [];
    const clientFor = (instance: InstanceConfig) => {
      const client = createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' });
      return {
        ...client,
        async deleteNotification(receiptId: number, opts?: { signal?: AbortSignal }) {
          deletes.push({
            receiptId,
            stored: (await storedBeforeDelete.get(receiptId)?.()) ?? false,
          });
          return client.deleteNotification(receiptId, opts);
        },
      };
    };
    const poller = createPoller({
      instances: [waInstance(config)],
      clientFor,
      ingest: archiver.ingest,
      logger: silentLogger,
      metrics: archiver.metrics,
      receiveTimeoutSeconds: 5,
    });
    poller.start();
    try {
      await expect
        .poll(() => fake.pendingNotifications(WA.idInstance), { timeout: 10_000 })
        .toBe(0);
    } finally {
      await poller.stop();
      await archiver.queue.close();
    }

    expect(deletes).toEqual(
      [...storedBeforeDelete.keys()].map((receiptId) => ({ receiptId, stored: true })),
    );
    expect(fake.count('deleteNotification', { status: 200 })).toBe(7);
    const queue = createArchiveQueueFor(redis, config);
    try {
      const jobs = await archiveJobs(queue);
      expect([...jobs.keys()].sort()).toEqual(files.map((f) => f.jobId).sort());
      expect([...jobs.values()].every((j) => j.source === 'poll')).toBe(true);
    } finally {
      await queue.close();
    }
    // Four files and a text, the text now a record job of its own.
    expect(
      await counterValue(archiver.metrics.webhooks, {
        type: 'incomingMessageReceived',
        outcome: 'accepted',
      }),
    ).toBe(5);
    expect(
      await counterValue(archiver.metrics.webhooks, {
        type: 'somethingNew',
        outcome: 'quarantined',
      }),
    ).toBe(1);
  });

  it('runs from config: polls only the instances marked poll, serves health and metrics, and stops at once', async () => {
    const running = await startPoller(config, silentLogger, { port: 0 });
    let stopped = false;
    try {
      expect(running.polled).toEqual([WA.idInstance]);
      const wa = pushFile(WA, `APP-${n}`);
      pushFile(MAX, `APP-MAX-${n}`);
      await expect
        .poll(() => fake.pendingNotifications(WA.idInstance), { timeout: 10_000 })
        .toBe(0);
      expect(fake.pendingNotifications(MAX.idInstance)).toBe(1);
      expect(fake.count('receiveNotification', { idInstance: MAX.idInstance })).toBe(0);

      const base = `http://127.0.0.1:${running.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(
        'archiver_webhooks_total{type="incomingMessageReceived",outcome="accepted"} 1',
      );
      expect(metrics).not.toContain(WA.apiTokenInstance);

      // The poller now sits in a 20 s long poll; SIGTERM's stop() must not wait for it.
      await expect
        .poll(
          () =>
            fake.calls.filter((c) => c.method === 'receiveNotification' && c.status === 0).length,
        )
        .toBe(1);
      const started = Date.now();
      await running.stop();
      stopped = true;
      expect(Date.now() - started).toBeLessThan(3_000);

      const queue = createArchiveQueueFor(redis, config);
      try {
        expect([...(await archiveJobs(queue)).keys()]).toEqual([wa.jobId]);
      } finally {
        await queue.close();
      }
    } finally {
      if (!stopped) await running.stop();
    }
  });

  // Worker and poller on one host read one env file; when the poller took METRICS_PORT too,
  // the second of them to start failed with EADDRINUSE.
  it('listens on POLLER_METRICS_PORT beside a worker on METRICS_PORT, from one env', async () => {
    const workerHealth = createServer((_req, res) => res.end('ok'));
    workerHealth.listen(0);
    await once(workerHealth, 'listening');
    const workerPort = (workerHealth.address() as AddressInfo).port;
    let pollerPort = await freePort();
    while (pollerPort === workerPort) pollerPort = await freePort();
    const shared = testConfig({
      fake,
      redisUrl,
      prefix: config.queuePrefix,
      instances: [{ ...WA, delivery: 'poll' }],
      env: { METRICS_PORT: String(workerPort), POLLER_METRICS_PORT: String(pollerPort) },
    });
    try {
      const running = await startPoller(shared, silentLogger);
      try {
        expect(running.port).toBe(pollerPort);
        expect((await fetch(`http://127.0.0.1:${pollerPort}/healthz`)).status).toBe(200);
      } finally {
        await running.stop();
      }
    } finally {
      workerHealth.close();
    }
  });

  it('polls every configured instance when none is marked poll', async () => {
    const allWebhook = testConfig({
      fake,
      redisUrl,
      prefix: config.queuePrefix,
      instances: [WA, MAX],
    });
    const running = await startPoller(allWebhook, silentLogger, { port: 0 });
    try {
      expect(running.polled.sort()).toEqual([WA.idInstance, MAX.idInstance].sort());
      await expect
        .poll(() => fake.count('receiveNotification', { idInstance: MAX.idInstance }))
        .toBeGreaterThan(0);
      await expect
        .poll(() => fake.count('receiveNotification', { idInstance: WA.idInstance }))
        .toBeGreaterThan(0);
    } finally {
      await running.stop();
    }
  });

  it('loses nothing and duplicates nothing when killed between enqueue and delete', async () => {
    const archiver = createArchiver(redis, config);
    const file = pushFile(WA, `KILL-${n}`);
    // The first poller dies right after ingest stored the job: its delete never reaches Green-API.
    let crashed = false;
    const first = createPoller({
      instances: [waInstance(config)],
      clientFor: (instance) => {
        const client = createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' });
        return {
          ...client,
          deleteNotification() {
            crashed = true;
            void first.stop();
            return Promise.reject(
              new GreenApiNetworkError(
                'deleteNotification: network error (ECONNRESET)',
                'deleteNotification',
              ),
            );
          },
        };
      },
      ingest: archiver.ingest,
      logger: silentLogger,
      receiveTimeoutSeconds: 5,
    });
    first.start();
    await expect.poll(() => crashed, { timeout: 10_000 }).toBe(true);
    await first.stop();
    expect(fake.pendingNotifications(WA.idInstance)).toBe(1);
    expect([...(await archiveJobs(archiver.queue)).keys()]).toEqual([file.jobId]);

    // The restarted poller gets the same notification again: a duplicate, then deleted.
    const second = createPoller({
      instances: [waInstance(config)],
      clientFor: (instance) =>
        createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' }),
      ingest: archiver.ingest,
      logger: silentLogger,
      metrics: archiver.metrics,
      receiveTimeoutSeconds: 5,
    });
    second.start();
    try {
      await expect
        .poll(() => fake.pendingNotifications(WA.idInstance), { timeout: 10_000 })
        .toBe(0);
    } finally {
      await second.stop();
    }
    const jobs = await archiveJobs(archiver.queue);
    await archiver.queue.close();
    expect([...jobs.keys()]).toEqual([file.jobId]);
    expect(
      await counterValue(archiver.metrics.webhooks, {
        type: 'incomingMessageReceived',
        outcome: 'duplicate',
      }),
    ).toBe(1);
    expect(
      await counterValue(archiver.metrics.webhooks, {
        type: 'incomingMessageReceived',
        outcome: 'accepted',
      }),
    ).toBe(0);
  });

  it('keeps the notification in Green-API while Redis is down and stores it once Redis is back', async () => {
    const own = await startRedis();
    const producer = createRedis(own.url, 'producer');
    producer.on('error', () => undefined);
    const cfg = testConfig({
      fake,
      redisUrl: own.url,
      prefix: config.queuePrefix,
      instances: [{ ...WA, delivery: 'poll' }],
    });
    const archiver = createArchiver(producer, cfg);
    archiver.queue.on('error', () => undefined);
    let failures = 0;
    const poller = createPoller({
      instances: [waInstance(cfg)],
      clientFor: (instance) =>
        createGreenApiClient({ ...instance, kind: instance.kind ?? 'whatsapp' }),
      ingest: async (...args) => {
        try {
          return await archiver.ingest(...args);
        } catch (err) {
          failures += 1;
          throw err;
        }
      },
      logger: silentLogger,
      receiveTimeoutSeconds: 5,
      backoff: { minMs: 100, maxMs: 400 },
    });
    try {
      await expect.poll(() => producer.status).toBe('ready');
      await own.kill();
      const file = pushFile(WA, `DOWN-${n}`);
      poller.start();
      await expect.poll(() => failures, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
      expect(fake.count('deleteNotification')).toBe(0);
      expect(fake.pendingNotifications(WA.idInstance)).toBe(1);

      await own.restart();
      await expect
        .poll(() => fake.pendingNotifications(WA.idInstance), { timeout: 20_000 })
        .toBe(0);
      expect([...(await archiveJobs(archiver.queue)).keys()]).toEqual([file.jobId]);
    } finally {
      await poller.stop();
      await archiver.queue.close();
      producer.disconnect();
      await own.stop();
    }
  });
});
