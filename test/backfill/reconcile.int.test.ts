import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  MAX,
  WA,
  archiveJobId,
  archiveJobs,
  backfillSchedulerId,
  counterValue,
  createArchiver,
  createBackfillQueue,
  createRedis,
  deadlineOf,
  dropPrefix,
  fileWebhook,
  markDone,
  silentLogger,
  startBackfillWorker,
  startFakeGreenApi,
  testConfig,
  uniquePrefix,
  type Config,
  type FakeGreenApi,
} from './support.js';

const redisUrl = inject('redisUrl');
const FILE_PREFIX = uniquePrefix('reconcile');
const CHAT = '79001234567@c.us';
const TYPES = ['imageMessage', 'documentMessage', 'videoMessage', 'audioMessage'] as const;

/** The fake's clock: real time, unless a test freezes it to hold a rate window shut. */
let frozenAt: number | undefined;
let fake: FakeGreenApi;
let redis: ReturnType<typeof createRedis>;
let config: Config;
let archiver: ReturnType<typeof createArchiver>;
let n = 0;

beforeAll(() => {
  redis = createRedis(redisUrl, 'worker');
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(async () => {
  frozenAt = undefined;
  n += 1;
  fake = await startFakeGreenApi({ now: () => frozenAt ?? Date.now() });
  fake.addInstance(WA);
  fake.addInstance(MAX);
  config = testConfig({
    fake,
    redisUrl,
    prefix: `${FILE_PREFIX}-${n}`,
    // MAX keeps files 2 days here, so a 3-day-old journal entry is past its deadline.
    instances: [WA, { ...MAX, retentionDays: 2 }],
  });
  archiver = createArchiver(redis, config);
});

afterEach(async () => {
  await fake.close();
  await archiver.queue.close();
  await dropPrefix(redis, config.queuePrefix);
});

const nowS = () => Math.floor(Date.now() / 1000);

type Sent = { idInstance: string; idMessage: string; jobId: string; delivered: boolean };

/**
 * `count` file messages in the instance's journals (alternating incoming / outgoing), of which
 * the first `delivered` also arrive as webhooks through the ingest path, as the receiver does.
 */
async function seed(
  instance: typeof WA | typeof MAX,
  count: number,
  delivered: number,
): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let i = 0; i < count; i += 1) {
    const idMessage = `${instance.kind.toUpperCase()}-${n}-${i}`;
    const direction = i % 2 === 0 ? 'incoming' : 'outgoing';
    const timestamp = nowS() - 60 * (i + 1);
    const typeMessage = TYPES[i % TYPES.length] ?? 'imageMessage';
    const added = fake.addFile({
      idInstance: instance.idInstance,
      chatId: CHAT,
      idMessage,
      direction,
      timestamp,
      typeMessage,
      size: 64,
    });
    if (i < delivered) {
      const hook = fileWebhook({
        kind: instance.kind,
        idInstance: instance.idInstance,
        typeWebhook:
          direction === 'incoming' ? 'incomingMessageReceived' : 'outgoingMessageReceived',
        chatId: CHAT,
        idMessage,
        timestamp,
        typeMessage,
        downloadUrl: added.downloadUrl,
      });
      await expect(archiver.ingest(hook, JSON.stringify(hook), 'webhook')).resolves.toMatchObject({
        outcome: 'accepted',
      });
    }
    sent.push({
      idInstance: instance.idInstance,
      idMessage,
      jobId: archiveJobId(instance.idInstance, CHAT, idMessage),
      delivered: i < delivered,
    });
  }
  return sent;
}

describe('reconciliation from the journals', () => {
  it('enqueues every file the webhooks missed exactly once, and none of those already delivered', async () => {
    const wa = await seed(WA, 8, 3);
    const max = await seed(MAX, 8, 3);
    // Noise: a text message, and a MAX file older than its 2-day retention.
    fake.addJournalMessage(WA.idInstance, {
      type: 'incoming',
      idMessage: `TEXT-${n}`,
      timestamp: nowS() - 30,
      typeMessage: 'textMessage',
      chatId: CHAT,
      textMessage: 'hello',
      senderId: CHAT,
      senderName: 'Someone',
    });
    fake.addFile({
      idInstance: MAX.idInstance,
      chatId: CHAT,
      idMessage: `MAX-OLD-${n}`,
      direction: 'incoming',
      timestamp: nowS() - 3 * 86_400,
    });
    // One delivered file was archived already and its job removed: only the `done` marker is left.
    const archived = wa[0];
    if (!archived) throw new Error('seed failed');
    await markDone(redis, archiver.keys, archived.jobId, 'archived', deadlineOf(nowS(), 15));
    await (await archiver.queue.getJob(archived.jobId))?.remove();

    const waSummary = await archiver.backfill.run({ idInstance: WA.idInstance });
    const maxSummary = await archiver.backfill.run({
      idInstance: MAX.idInstance,
      minutes: 5 * 1440,
    });

    expect(waSummary).toMatchObject({
      mode: 'journal',
      scanned: 9,
      found: 8,
      enqueued: 5,
      alreadyKnown: 3,
      skippedExpired: 0,
      rateLimited: 0,
    });
    expect(maxSummary).toMatchObject({
      mode: 'journal',
      found: 9,
      enqueued: 5,
      alreadyKnown: 3,
      skippedExpired: 1,
    });

    const jobs = await archiveJobs(archiver.queue);
    const expected = [...wa, ...max].filter((s) => s !== archived);
    expect([...jobs.keys()].sort()).toEqual(expected.map((s) => s.jobId).sort());
    for (const s of expected) {
      // Delivered files keep the job the webhook created; missed ones come from the journal.
      expect(jobs.get(s.jobId)).toMatchObject({
        idMessage: s.idMessage,
        source: s.delivered ? 'webhook' : 'journal',
      });
    }
    expect(jobs.get(archiveJobId(MAX.idInstance, CHAT, `MAX-OLD-${n}`))).toBeUndefined();
    expect(
      [...jobs.values()]
        .filter((j) => j.idInstance === MAX.idInstance)
        .every((j) => j.kind === 'max'),
    ).toBe(true);
    expect(await counterValue(archiver.metrics.backfillFound, { instance: WA.idInstance })).toBe(5);
    expect(await counterValue(archiver.metrics.backfillFound, { instance: MAX.idInstance })).toBe(
      5,
    );
  });

  it('enqueues nothing new when run again', async () => {
    await seed(WA, 6, 2);
    const first = await archiver.backfill.run({ idInstance: WA.idInstance });
    const before = await archiveJobs(archiver.queue);
    const second = await archiver.backfill.run({ idInstance: WA.idInstance });

    expect(first).toMatchObject({ found: 6, enqueued: 4, alreadyKnown: 2 });
    expect(second).toMatchObject({ found: 6, enqueued: 0, alreadyKnown: 6 });
    expect(await archiveJobs(archiver.queue)).toEqual(before);
    expect(await counterValue(archiver.metrics.backfillFound, { instance: WA.idInstance })).toBe(4);
  });

  it('waits out journal 429s through the shared limiter instead of failing the run', async () => {
    const sent = await seed(WA, 4, 1);
    // Freeze the fake's clock and spend the instance's one lastIncomingMessages per second:
    // every call now answers 429 until the clock moves again.
    frozenAt = Date.now();
    const spent = await fetch(
      `${fake.url}/waInstance${WA.idInstance}/lastIncomingMessages/${WA.apiTokenInstance}?minutes=5`,
    );
    expect(spent.status).toBe(200);
    fake.clearCalls();

    const run = archiver.backfill.run({ idInstance: WA.idInstance });
    await expect
      .poll(() => fake.count('lastIncomingMessages', { status: 429 }), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    frozenAt = undefined;
    const summary = await run;

    expect(summary).toMatchObject({ found: 4, enqueued: 3, alreadyKnown: 1 });
    expect(summary.rateLimited).toBe(fake.count('lastIncomingMessages', { status: 429 }));
    expect(fake.count('lastIncomingMessages', { status: 200 })).toBe(1);
    // The shared penalty is in Redis, where every process's limiter sees it.
    expect(await redis.exists(archiver.keys.penalty(WA.idInstance, 'lastIncomingMessages'))).toBe(
      1,
    );
    expect([...(await archiveJobs(archiver.queue)).keys()].sort()).toEqual(
      sent.map((s) => s.jobId).sort(),
    );
  });
});

describe('scheduled reconciliation', () => {
  const start = (cfg: Config) =>
    startBackfillWorker({
      connection: redis,
      prefix: cfg.queuePrefix,
      config: cfg,
      backfill: archiver.backfill,
      logger: silentLogger,
    });

  it('keeps one scheduler per instance at the configured interval, runs it, and removes it when turned off', async () => {
    const missed = await seed(WA, 2, 0);
    const queue = createBackfillQueue(redis, config.queuePrefix);
    try {
      const scheduled = { ...config, backfill: { intervalMinutes: 45, windowMinutes: 120 } };
      const running = await start(scheduled);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(
        [backfillSchedulerId(WA.idInstance), backfillSchedulerId(MAX.idInstance)].sort(),
      );
      for (const s of schedulers) {
        const idInstance = s.key.replace('reconcile-', '');
        expect(s).toMatchObject({
          name: 'reconcile',
          every: 45 * 60_000,
          template: { data: { idInstance, minutes: 120 } },
        });
      }
      // Each first run waits for the instance's point in the interval (spread, not all at
      // start-up); brought forward here, it is a full reconciliation.
      const delayed = await queue.getDelayed();
      expect(delayed).toHaveLength(2);
      for (const job of delayed) {
        expect(job.opts.delay ?? 0).toBeGreaterThan(0);
        expect(job.opts.delay ?? 0).toBeLessThanOrEqual(45 * 60_000);
        await job.promote();
      }
      await expect
        .poll(async () => (await queue.getCompleted()).length, { timeout: 15_000 })
        .toBe(2);
      const results = (await queue.getCompleted()).map((j) => j.returnvalue);
      expect(results).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ idInstance: WA.idInstance, mode: 'journal', enqueued: 2 }),
          expect.objectContaining({ idInstance: MAX.idInstance, mode: 'journal' }),
        ]),
      );
      expect([...(await archiveJobs(archiver.queue)).keys()].sort()).toEqual(
        missed.map((s) => s.jobId).sort(),
      );
      await running.close();

      // An instance removed from the configuration loses its scheduler.
      await (
        await start({
          ...scheduled,
          instances: scheduled.instances.filter((i) => i.idInstance === WA.idInstance),
        })
      ).close();
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual([
        backfillSchedulerId(WA.idInstance),
      ]);

      // BACKFILL_INTERVAL_MINUTES=0 turns reconciliation off.
      await (
        await start({ ...config, backfill: { intervalMinutes: 0, windowMinutes: 120 } })
      ).close();
      expect(await queue.getJobSchedulers()).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});

describe('scheduled instance checks', () => {
  it('schedules one check per instance, spread over the interval, and exports its result', async () => {
    const { CHECK_JOB, createCheckQueue, createLastSeen, createMetrics, instanceMap } =
      await import('../../packages/core/src/index.js');
    const { createGreenApiClient } = await import('../../packages/greenapi/src/index.js');
    const instances = instanceMap(config.instances);
    const { startCheckWorker } = await import('../../apps/worker/src/check-worker.js');
    const running = await startCheckWorker({
      connection: redis,
      prefix: config.queuePrefix,
      intervalMinutes: 15,
      ids: config.instances.map((i) => i.idInstance),
      checks: {
        instances,
        clientFor: (i) => createGreenApiClient({ ...i, kind: i.kind ?? 'whatsapp' }),
        limiter: archiver.limiter,
        lastSeen: createLastSeen(redis, archiver.keys),
        redis,
        keys: archiver.keys,
        webhookUrl: 'https://archiver.example.com/webhooks/green-api',
      },
      logger: silentLogger,
    });
    const queue = createCheckQueue(redis, config.queuePrefix);
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(
        [`check-${WA.idInstance}`, `check-${MAX.idInstance}`].sort(),
      );
      // Each at its own point in the 15 minutes, not both at start-up.
      const nexts = schedulers.map((s) => s.next ?? 0);
      expect(new Set(nexts.map((t) => Math.floor(t / 1000))).size).toBe(2);
      for (const s of schedulers) expect(s.every).toBe(900_000);

      // Run WA's check now rather than wait for its slot: every setting is off on the fake.
      await queue.add(CHECK_JOB, { idInstance: WA.idInstance });
      await expect
        .poll(() => redis.hexists(archiver.keys.ready, WA.idInstance), { timeout: 15_000 })
        .toBe(1);
      const metrics = createMetrics({ redis, keys: archiver.keys, instanceIds: () => instances });
      const text = await metrics.registry.metrics();
      expect(text).toContain(
        `archiver_instance_ready{instance="${WA.idInstance}",check="authorized"} 1`,
      );
      expect(text).toContain(
        `archiver_instance_ready{instance="${WA.idInstance}",check="settings"} 0`,
      );
      expect(text).toContain(
        `archiver_instance_ready{instance="${WA.idInstance}",check="webhook_url"} 0`,
      );
      // A removed instance's series go.
      instances.delete(WA.idInstance);
      expect(await metrics.registry.metrics()).not.toContain(`instance="${WA.idInstance}"`);
    } finally {
      await running.close();
      await queue.close();
    }
  });
});
