// One process with N instances configured from a file: what start-up, a reload and the
// schedulers cost, and how much memory the instances take. Run by bench/src/fleet.ts, once per
// size, in a fresh process so the memory figures are this size's alone. Prints one JSON line.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createBackfillQueue,
  createCheckQueue,
  createInstanceRegistry,
  createLogger,
  createRedis,
  loadConfig,
  scheduleBackfills,
  scheduleInstanceChecks,
} from '@archiver/core';
import { createWebhookAuth } from '@archiver/receiver';

const [count = '1', redisUrl = '', prefix = 'bench-fleet'] = process.argv.slice(2);
const n = Number(count);
const gc = (globalThis as { gc?: () => void }).gc;

const entry = (k: number, token = `hook-${k}-0123456789abcdef`) => ({
  idInstance: String(1101000000 + k),
  apiTokenInstance: `api-${k}-0123456789abcdef0123456789abcdef0123`,
  apiUrl: `https://${1101 + (k % 50)}.api.green-api.com`,
  mediaUrl: `https://${1101 + (k % 50)}.media.green-api.com`,
  webhookToken: token,
  kind: k % 5 === 0 ? 'max' : 'whatsapp',
});

const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
const file = join(dir, 'instances.json');
writeFileSync(file, JSON.stringify(Array.from({ length: n }, (_, k) => entry(k))));
const env = {
  GREEN_API_INSTANCES: `@${file}`,
  S3_BUCKET: 'bench',
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: prefix,
};

/**
 * RSS and heap after a full collection, once the collector has given back what it freed: V8
 * unmaps freed pages shortly after a collection, not during it, so an RSS read at once still
 * counts them (about 25 MiB more after the start-up burst). Read until two readings half a
 * second apart agree, for at most ten seconds.
 */
async function settledMemory() {
  let last = { rss: Infinity, heapUsed: Infinity };
  for (let i = 0; i < 20; i += 1) {
    gc?.();
    await sleep(500);
    const now = process.memoryUsage();
    if (Math.abs(now.rss - last.rss) < 2 ** 20) return now;
    last = now;
  }
  return last;
}

const { rss: baseRss, heapUsed: baseHeap } = await settledMemory();
const logger = createLogger({ level: 'silent', name: 'bench' });
const redis = createRedis(redisUrl, 'worker');
const backfillQueue = createBackfillQueue(redis, prefix);
const checkQueue = createCheckQueue(redis, prefix);
const schedule = async (ids: string[]) => {
  await scheduleBackfills(
    backfillQueue,
    ids.map((idInstance) => ({ idInstance })),
    {
      intervalMinutes: 30,
      windowMinutes: 1440,
    },
  );
  await scheduleInstanceChecks(checkQueue, ids, 15);
};

let t = performance.now();
const config = loadConfig(env, 'worker', { readFile: (p) => readFileSync(p, 'utf8') });
const registry = createInstanceRegistry({
  config,
  load: () => loadConfig(env, 'worker', { readFile: (p) => readFileSync(p, 'utf8') }),
  logger,
});
let auth = createWebhookAuth(config);
const configMs = performance.now() - t;
t = performance.now();
await schedule(config.instances.map((i) => i.idInstance));
const scheduleMs = performance.now() - t;

// A reload that changes one instance's token and adds one: what a weekly edit does.
registry.onChange(async (change, next) => {
  auth = createWebhookAuth(next);
  if (change.added.length + change.removed.length > 0) {
    await schedule(next.instances.map((i) => i.idInstance));
  }
});
const edited = Array.from({ length: n }, (_, k) =>
  entry(k, k === 0 ? 'rotated-token-0123456789' : undefined),
);
edited.push(entry(n));
writeFileSync(file, JSON.stringify(edited));
t = performance.now();
const result = await registry.reload();
const reloadMs = performance.now() - t;
if (!result.ok || result.change.added.length !== 1 || result.change.changed.length !== 1) {
  throw new Error(`unexpected reload: ${JSON.stringify(result)}`);
}
if (!auth.admit('rotated-token-0123456789')) throw new Error('reloaded token not admitted');

// Spread: how many backfill runs (2 journal calls each) and checks fall in the busiest second.
const busiest = async (queue: typeof backfillQueue | typeof checkQueue) => {
  const perSecond = new Map<number, number>();
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const second = Math.floor((s.next ?? 0) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return Math.max(0, ...perSecond.values());
};
const busiestBackfill = await busiest(backfillQueue);
const busiestCheck = await busiest(checkQueue);

const mem = await settledMemory();
process.stdout.write(
  `${JSON.stringify({
    n,
    configMs,
    scheduleMs,
    startupMs: configMs + scheduleMs,
    reloadMs,
    rssMiB: (mem.rss - baseRss) / 2 ** 20,
    heapMiB: (mem.heapUsed - baseHeap) / 2 ** 20,
    busiestBackfill,
    busiestCheck,
  })}\n`,
);
await backfillQueue.obliterate({ force: true });
await checkQueue.obliterate({ force: true });
await backfillQueue.close();
await checkQueue.close();
await redis.quit();
