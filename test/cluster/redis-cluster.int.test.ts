import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  archiveJobId,
  redisKeys,
  createLogger,
  createRateLimiter,
  createRedis,
  createS3Client,
  loadConfig,
  objectKeys,
  type Config,
  type RedisClient,
} from '../../packages/core/src/index.js';
import {
  fileWebhook,
  getObjectBytes,
  redisClusterUnavailable,
  s3ClientConfig,
  startFakeGreenApi,
  startRedisCluster,
  type FakeGreenApi,
  type RedisClusterService,
} from '../../packages/testkit/src/index.js';
import {
  WEBHOOK_PATH,
  createApp,
  createReceiverServices,
  listen,
  listenUrl,
} from '../../apps/receiver/src/index.js';
import { startWorker, type RunningWorker } from '../../apps/worker/src/index.js';

/**
 * The README's claim: on a Redis Cluster with a hash-tagged QUEUE_PREFIX the archiver works.
 * A real three-master cluster, the receiver and the worker as their main.ts wire them, and the
 * rate limiter and the dedupe on the cluster client. Skipped, saying why, only where
 * redis-server or redis-cli is missing.
 */
const unavailable = redisClusterUnavailable();
if (unavailable) console.warn(`Redis Cluster tests skipped: ${unavailable}`);

const WA = {
  idInstance: '1101000077',
  apiTokenInstance: 'wa-cluster-token-5e1d',
  kind: 'whatsapp' as const,
};
const HOOK_TOKEN = 'cluster-webhook-token-93b7f0c2';

describe.skipIf(unavailable !== undefined)('on a three-master Redis Cluster', () => {
  let cluster: RedisClusterService;
  let fake: FakeGreenApi;
  let config: Config;
  let worker: RunningWorker;
  let receiver: { server: Server; url: string; close(): Promise<void> };
  let services: ReturnType<typeof createReceiverServices>;
  let admin: RedisClient;
  let s3: ReturnType<typeof createS3Client>;
  let prefix: string;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    admin = createRedis({ redisUrl: cluster.url, redisCluster: true }, 'worker');
    prefix = await tagAwayFromSeed(admin, cluster);
    fake = await startFakeGreenApi();
    fake.addInstance(WA);
    const conn = inject('s3');
    config = loadConfig(
      {
        REDIS_URL: cluster.url,
        REDIS_CLUSTER: 'true',
        QUEUE_PREFIX: prefix,
        GREEN_API_INSTANCES: JSON.stringify([
          { ...WA, apiUrl: fake.url, webhookToken: HOOK_TOKEN, downloadRps: 2 },
        ]),
        S3_BUCKET: conn.bucket,
        S3_PREFIX: `cluster-${prefix.slice(1, -1)}/`,
        S3_ENDPOINT: conn.endpoint,
        RETRY_BASE_DELAY_MS: '50',
        RETRY_MAX_DELAY_MS: '200',
        LOG_LEVEL: 'silent',
      },
      'worker',
    );
    const logger = createLogger({ level: 'silent', name: 'cluster-test', secrets: [] });
    s3 = createS3Client(config.s3!, s3ClientConfig(conn));
    worker = await startWorker(config, logger, { port: 0, s3: s3ClientConfig(conn) });
    services = createReceiverServices(config, logger);
    const app = createApp({ config, logger, ...services });
    await vi.waitFor(() => services.redis.ping(), { timeout: 10_000, interval: 50 });
    const server = await listen(app, 0, '127.0.0.1');
    receiver = {
      server,
      url: listenUrl(server),
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await services.close();
      },
    };
  });

  afterAll(async () => {
    await receiver?.close();
    await worker?.stop();
    await admin?.quit().catch(() => undefined);
    s3?.destroy();
    await fake?.close();
    await cluster?.stop();
  });

  function post(body: unknown) {
    return fetch(`${receiver.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK_TOKEN}` },
      body: JSON.stringify(body),
    });
  }

  function fileHook(idMessage: string) {
    const timestamp = Math.floor(Date.now() / 1000);
    const ref = { idInstance: WA.idInstance, chatId: '79001234567@c.us', idMessage };
    const added = fake.addFile({ ...ref, size: 3000 + idMessage.length });
    const hook = fileWebhook({
      kind: 'whatsapp',
      ...ref,
      timestamp,
      typeMessage: 'documentMessage',
      downloadUrl: added.downloadUrl,
      fileName: added.fileName,
      mimeType: added.mimeType,
    });
    const keys = objectKeys({
      prefix: config.s3!.prefix,
      kind: 'whatsapp',
      ...ref,
      timestamp,
      fileName: added.fileName,
      mimeType: added.mimeType,
    });
    return { hook, added, keys };
  }

  it('really is a cluster of three masters, the queue on one slot away from REDIS_URL', async () => {
    const nodes = (await admin.cluster('NODES')) as string;
    expect(nodes.split('\n').filter((line) => line.includes('master')).length).toBe(3);
    expect(await ownerPort(admin, prefix)).not.toBe(new URL(cluster.url).port);
    const keys = redisKeys(prefix);
    const slots = await Promise.all(
      [
        keys.deadlines,
        keys.done('x'),
        keys.rate(WA.idInstance, 'downloadFile'),
        keys.quarantine,
      ].map((key) => admin.cluster('KEYSLOT', key) as Promise<number>),
    );
    expect(new Set(slots).size).toBe(1);
  });

  it('archives webhooks through receiver and worker, within the rate budget, and dedupes', async () => {
    const files = ['CL1', 'CL2', 'CL3', 'CL4', 'CL5', 'CL6'].map(fileHook);
    // Green-API's own limit, a little above the configured budget: any burst would show.
    fake.throttleInstance(WA.idInstance, 3);
    for (const f of files) expect((await post(f.hook)).status).toBe(200);
    for (const f of files) {
      await expect
        .poll(() => getObjectBytes(s3, inject('s3').bucket, f.keys.sidecarKey).catch(() => null), {
          timeout: 30_000,
          interval: 200,
        })
        .not.toBeNull();
      const sidecar = JSON.parse(
        (await getObjectBytes(s3, inject('s3').bucket, f.keys.sidecarKey)).toString(),
      ) as { status: string; sha256: string };
      expect(sidecar).toMatchObject({ status: 'archived', sha256: f.added.sha256 });
    }
    expect(fake.count('downloadFile', { idInstance: WA.idInstance })).toBe(files.length);
    expect(fake.count('downloadFile', { status: 429 })).toBe(0);

    // The same webhooks again, after their jobs ended: known, not archived a second time.
    for (const f of files.slice(0, 3)) expect((await post(f.hook)).status).toBe(200);
    const jobId = archiveJobId(WA.idInstance, files[0]!.hook.senderData.chatId, 'CL1');
    expect(await admin.get(redisKeys(prefix).done(jobId))).toBe('archived');
    // A redelivery is a duplicate from the dedupe marker: no job, no download.
    const queue = services.queue;
    await expect
      .poll(async () => await queue.getJobCounts('wait', 'prioritized', 'active'))
      .toEqual({
        wait: 0,
        prioritized: 0,
        active: 0,
      });
    expect(fake.count('downloadFile', { idInstance: WA.idInstance })).toBe(files.length);
  });

  it('spaces downloadFile slots for every process through the cluster', async () => {
    const clients: RedisClient[] = [createRedis(config, 'worker'), createRedis(config, 'worker')];
    try {
      const limiters = clients.map((c) => createRateLimiter(c, redisKeys(prefix)));
      const starts: number[] = [];
      await Promise.all(
        limiters.flatMap((limiter, i) =>
          [0, 1, 2].map(async (k) => {
            await limiter.admitted(
              '2200000000',
              'downloadFile',
              5,
              async () => {
                starts.push(Date.now());
              },
              { holdMs: 10_000 },
            );
            return `${i}-${k}`;
          }),
        ),
      );
      starts.sort((a, b) => a - b);
      // Six calls at 5 rps from two processes: the sixth starts about 1 s after the first.
      expect(starts).toHaveLength(6);
      expect((starts[5] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(900);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });
});

/** The port of the master serving `key`'s slot. */
async function ownerPort(admin: RedisClient, key: string): Promise<string> {
  const slot = (await admin.cluster('KEYSLOT', key)) as number;
  const ranges = await admin.cluster('SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return String(range?.[2]?.[1]);
}

/**
 * A hash-tagged prefix whose slot lives on a node other than the one REDIS_URL names: a
 * plain (non-cluster) client there would be answered MOVED, so passing proves the cluster
 * client, not luck.
 */
async function tagAwayFromSeed(admin: RedisClient, cluster: RedisClusterService): Promise<string> {
  const seed = new URL(cluster.url).port;
  for (;;) {
    const candidate = `{t${randomUUID().slice(0, 8)}}`;
    if ((await ownerPort(admin, candidate)) !== seed) return candidate;
  }
}
