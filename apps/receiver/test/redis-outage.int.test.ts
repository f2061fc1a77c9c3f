import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TOKENS, whatsappDocument } from './support/fixtures.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import { startRedisProcess, type RedisProcess } from './support/redis-process.js';

// The bound for "Redis down → 503 quickly": a correctness limit, not a perf target.
const UNAVAILABLE_WITHIN_MS = 2000;

let redisServer: RedisProcess;
let receiver: TestReceiver;

beforeAll(async () => {
  redisServer = await startRedisProcess();
  receiver = await startReceiver({ redisUrl: redisServer.url });
});
afterAll(async () => {
  await receiver?.close();
  await redisServer?.stop();
});

async function timedPost(body: unknown) {
  const started = performance.now();
  const res = await receiver.post(body);
  return { res, elapsed: performance.now() - started };
}

describe('Redis outage', () => {
  it('answers 503 with Retry-After within 2 s while Redis is stopped, never 200, and 200 again once it is back', async () => {
    expect((await receiver.post(whatsappDocument({ idMessage: 'BEFORE' }))).status).toBe(200);
    expect((await fetch(`${receiver.url}/readyz`)).status).toBe(200);

    await redisServer.stop();
    const during = await Promise.all(
      ['DOWN1', 'DOWN2', 'DOWN3'].map((id) => timedPost(whatsappDocument({ idMessage: id }))),
    );
    for (const { res, elapsed } of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(elapsed).toBeLessThan(UNAVAILABLE_WITHIN_MS);
    }
    // Bodies that would not be enqueued are refused too: quarantine also needs Redis.
    expect(
      (await receiver.post({ typeWebhook: 'odd', instanceData: { idInstance: 1101000001 } }))
        .status,
    ).toBe(503);
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${receiver.url}/readyz`);
    expect(ready.status).toBe(503);
    const metrics = await fetch(`${receiver.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(
      /archiver_webhooks_total\{type="incomingMessageReceived",outcome="unavailable"\} 3/,
    );

    await redisServer.start();
    await expect
      .poll(async () => (await fetch(`${receiver.url}/readyz`)).status, { timeout: 10_000 })
      .toBe(200);
    expect((await receiver.post(whatsappDocument({ idMessage: 'DOWN1' }))).status).toBe(200);
    const lines = receiver.logLines();
    const unavailable = lines.filter((l) => l.component === 'webhook' && l.level === 50);
    expect(unavailable.length).toBeGreaterThanOrEqual(3);
    // One line per outage from the connection watcher, not one per reconnect attempt.
    expect(lines.filter((l) => l.component === 'redis' && l.level === 50)).toHaveLength(1);
    expect(receiver.logs()).not.toContain(TOKENS.whatsapp1);
    // The private Redis keeps no data across a restart, so only the redelivered job is there.
    expect((await receiver.files()).map((file) => file.idMessage)).toEqual(['DOWN1']);
  });

  it('answers 503 within 2 s when Redis accepts the connection but does not answer', async () => {
    const admin = new Redis(redisServer.url);
    try {
      // Every client's commands now hang (the timeout path, not the refused-connection one).
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const [{ res, elapsed }, ready] = await Promise.all([
        timedPost(whatsappDocument({ idMessage: 'PAUSED' })),
        fetch(`${receiver.url}/readyz`),
      ]);
      expect(res.status).toBe(503);
      expect(elapsed).toBeLessThan(UNAVAILABLE_WITHIN_MS);
      expect(ready.status).toBe(503);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
    // The redelivery succeeds: a job that landed after the 503 is recognised as a duplicate.
    await expect
      .poll(async () => (await receiver.post(whatsappDocument({ idMessage: 'PAUSED' }))).status, {
        timeout: 10_000,
      })
      .toBe(200);
    expect((await receiver.files()).filter((file) => file.idMessage === 'PAUSED')).toHaveLength(1);
  });

  it('starts while Redis is down, answers 503, and serves once Redis comes up', async () => {
    await redisServer.stop();
    const late = await startReceiver({ redisUrl: redisServer.url, waitForRedis: false });
    try {
      const started = performance.now();
      expect((await late.post(whatsappDocument({ idMessage: 'EARLY' }))).status).toBe(503);
      expect(performance.now() - started).toBeLessThan(UNAVAILABLE_WITHIN_MS);
      expect((await fetch(`${late.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${late.url}/healthz`)).status).toBe(200);

      await redisServer.start();
      await expect
        .poll(async () => (await fetch(`${late.url}/readyz`)).status, { timeout: 10_000 })
        .toBe(200);
      // BullMQ's queue finished its own start-up once Redis answered: the job is stored.
      await expect
        .poll(async () => (await late.post(whatsappDocument({ idMessage: 'EARLY' }))).status, {
          timeout: 10_000,
        })
        .toBe(200);
      expect((await late.files()).map((file) => file.idMessage)).toEqual(['EARLY']);
    } finally {
      await late.close();
    }
  });
});
