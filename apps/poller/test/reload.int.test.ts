import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  createInstanceRegistry,
  createLogger,
  createRedis,
  loadConfig,
  watchInstances,
} from '@archiver/core';
import { startFakeGreenApi, textWebhook, type FakeGreenApi } from '@archiver/testkit';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startPoller } from '../src/app.js';

const A = {
  idInstance: '1101000601',
  apiTokenInstance: 'poll-api-token-a-0123',
  kind: 'whatsapp' as const,
};
const B = {
  idInstance: '1101000602',
  apiTokenInstance: 'poll-api-token-b-0123',
  kind: 'whatsapp' as const,
};

describe('poller: GREEN_API_INSTANCES=@file reloads without a restart', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('polls a new instance, stops polling a removed one and drops its series, keeps the old set on bad content', async () => {
    // Long polls answer within 200 ms, so a loop comes round several times a second.
    const fake: FakeGreenApi = await startFakeGreenApi({ maxReceiveTimeoutMs: 200 });
    cleanups.push(() => fake.close());
    fake.addInstance(A);
    fake.addInstance(B);
    const entry = (i: typeof A) => ({ ...i, apiUrl: fake.url, delivery: 'poll' });

    const dir = mkdtempSync(join(tmpdir(), 'instances-'));
    const file = join(dir, 'instances.json');
    const write = (content: string) => {
      const tmp = join(dir, `.tmp-${randomUUID()}`);
      writeFileSync(tmp, content);
      renameSync(tmp, file);
    };
    write(JSON.stringify([entry(A)]));
    const prefix = `test-poller-reload-${randomUUID().slice(0, 8)}`;
    const env = {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      GREEN_API_INSTANCES: `@${file}`,
    };
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      name: 'poller',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const config = loadConfig(env, 'poller');
    const registry = createInstanceRegistry({
      config,
      load: () => loadConfig(env, 'poller'),
      logger,
    });
    const watcher = watchInstances(registry, {
      file,
      logger,
      debounceMs: 50,
      readFile: (path) => readFileSync(path, 'utf8'),
    });
    cleanups.push(() => watcher.close());
    const running = await startPoller(config, logger, {
      port: 0,
      registry,
      receiveTimeoutSeconds: 5,
    });
    cleanups.push(() => running.stop());
    const redis = createRedis(inject('redisUrl'), 'worker');
    cleanups.push(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    let n = 0;
    const push = (i: typeof A) =>
      fake.pushNotification(
        i.idInstance,
        textWebhook({
          kind: 'whatsapp',
          idInstance: i.idInstance,
          chatId: '79001234567@c.us',
          idMessage: `RELOAD-${(n += 1)}`,
          timestamp: Math.floor(Date.now() / 1000),
          textMessage: 'hello',
        }),
      );
    const metrics = async () => (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    const receives = (i: typeof A) =>
      fake.count('receiveNotification', { idInstance: i.idInstance });

    push(A);
    await expect.poll(() => fake.pendingNotifications(A.idInstance), { timeout: 10_000 }).toBe(0);
    push(B);
    expect(receives(B)).toBe(0);

    // Added: polled within seconds, counted under its own label.
    write(JSON.stringify([entry(A), entry(B)]));
    await expect
      .poll(() => fake.pendingNotifications(B.idInstance), { timeout: 10_000, interval: 50 })
      .toBe(0);
    expect(await metrics()).toContain(
      `archiver_webhooks_by_instance_total{instance="${B.idInstance}"} 1`,
    );
    expect(await metrics()).toContain(`instance="${A.idInstance}"`);

    // Removed: its loop stops, and its series leave the scrape.
    write(JSON.stringify([entry(B)]));
    await expect
      .poll(
        () =>
          lines.some(
            (l) => l.includes('"stopped polling"') && l.includes(`"idInstance":"${A.idInstance}"`),
          ),
        { timeout: 10_000, interval: 50 },
      )
      .toBe(true);
    expect(await metrics()).not.toContain(`instance="${A.idInstance}"`);
    const receivesOfA = receives(A);
    push(A);
    // B's loop comes round three more times; A is not asked once meanwhile.
    const receivesOfB = receives(B);
    await expect
      .poll(() => receives(B), { timeout: 10_000, interval: 50 })
      .toBeGreaterThanOrEqual(receivesOfB + 3);
    expect(receives(A)).toBe(receivesOfA);
    expect(fake.pendingNotifications(A.idInstance)).toBe(1);

    // Bad content: one line per problem, and B is still polled.
    const bad = JSON.stringify([
      entry(B),
      { ...entry(A), apiUrl: 'not a url' },
      { idInstance: 'x' },
    ]);
    const expected = (() => {
      try {
        loadConfig({ ...env, GREEN_API_INSTANCES: '@/x.json' }, 'poller', { readFile: () => bad });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
      }
      return [];
    })();
    expect(expected.length).toBeGreaterThanOrEqual(2);
    write(bad);
    const problems = () =>
      lines
        .filter((l) => l.includes('"instances not reloaded"'))
        .map((l) => (JSON.parse(l) as { problem: string }).problem);
    await expect.poll(problems, { timeout: 10_000, interval: 50 }).toEqual(expected);
    expect([...registry.current.keys()]).toEqual([B.idInstance]);
    push(B);
    await expect
      .poll(() => fake.pendingNotifications(B.idInstance), { timeout: 10_000, interval: 50 })
      .toBe(0);
    expect(fake.pendingNotifications(A.idInstance)).toBe(1);
  });
});
