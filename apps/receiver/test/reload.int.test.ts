import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createInstanceRegistry, createLogger, loadConfig, watchInstances } from '@archiver/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { listen, listenUrl } from '../src/server.js';
import { createReceiverServices } from '../src/wiring.js';
import { postWebhook } from './support/harness.js';
import { whatsappDocument } from './support/fixtures.js';
import './support/provided.js';

const A = { id: 1101000501, token: 'reload-token-a-0123456789' };
const B = { id: 1101000502, token: 'reload-token-b-0123456789' };

const entry = (i: { id: number; token: string }) => ({
  idInstance: String(i.id),
  apiTokenInstance: `api-${i.id}`,
  apiUrl: 'https://1101.api.green-api.com',
  webhookToken: i.token,
});

describe('receiver: GREEN_API_INSTANCES=@file reloads without a restart', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('serves a new instance within seconds, keeps the old set on bad content, drops a removed one, and never fails a webhook meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'instances-'));
    const file = join(dir, 'instances.json');
    // As editors and ConfigMaps do: a new file renamed over the old one.
    const write = (content: string) => {
      const tmp = join(dir, `.tmp-${randomUUID()}`);
      writeFileSync(tmp, content);
      renameSync(tmp, file);
    };
    write(JSON.stringify([entry(A)]));
    const env = {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `test-reload-${randomUUID()}`,
      GREEN_API_INSTANCES: `@${file}`,
    };
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      name: 'receiver',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const config = loadConfig(env, 'receiver');
    const registry = createInstanceRegistry({
      config,
      load: () => loadConfig(env, 'receiver'),
      logger,
    });
    const watcher = watchInstances(registry, {
      file,
      logger,
      debounceMs: 50,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    cleanups.push(() => watcher.close());
    const services = createReceiverServices(config, logger, undefined, registry);
    cleanups.push(() => services.close());
    const app = createApp({ config, logger, ...services, registry });
    const server: Server = await listen(app, 0, '127.0.0.1');
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = listenUrl(server);
    await expect.poll(() => services.redis.ping().catch(() => 'no')).toBe('PONG');

    const post = (i: { id: number; token: string }, n: number) =>
      postWebhook(url, whatsappDocument({ idInstance: i.id, idMessage: `M${i.id}${n}` }), {
        token: i.token,
      }).then((r) => r.status);

    // A's webhooks keep coming through every reload below.
    const statusesOfA: number[] = [];
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending; n += 1) statusesOfA.push(await post(A, n));
    })();

    expect(await post(B, 0)).toBe(401);
    write(JSON.stringify([entry(A), entry(B)]));
    await expect.poll(() => post(B, 1), { timeout: 5_000, interval: 50 }).toBe(200);

    write('[{"idInstance": "not digits", "apiUrl": 7}');
    await expect
      .poll(() => lines.filter((l) => l.includes('instances not reloaded')).length, {
        timeout: 5_000,
      })
      .toBeGreaterThan(0);
    write(JSON.stringify([entry(A), { ...entry(B), apiUrl: 'not a url' }, { idInstance: 'x' }]));
    await expect
      .poll(() => lines.filter((l) => l.includes('instances not reloaded')).length, {
        timeout: 5_000,
      })
      .toBeGreaterThan(3);
    // The old registry stands: B is still served.
    expect(await post(B, 2)).toBe(200);
    const problems = lines
      .filter((l) => l.includes('instances not reloaded'))
      .map((l) => (JSON.parse(l) as { problem: string }).problem);
    expect(problems).toContain('GREEN_API_INSTANCES: not valid JSON');
    expect(problems.some((p) => p.includes('GREEN_API_INSTANCES[1.apiUrl]'))).toBe(true);
    expect(lines.join('')).not.toContain(B.token);

    sending = false;
    await sender;
    expect(statusesOfA.length).toBeGreaterThan(5);
    expect(new Set(statusesOfA)).toEqual(new Set([200]));

    // A removed instance's token stops working.
    write(JSON.stringify([entry(B)]));
    await expect.poll(() => post(A, 9999), { timeout: 5_000, interval: 50 }).toBe(401);
    expect(await post(B, 3)).toBe(200);
    expect(lines.some((l) => l.includes('"instances reloaded"'))).toBe(true);
    await services.queue.obliterate({ force: true });
  });
});
