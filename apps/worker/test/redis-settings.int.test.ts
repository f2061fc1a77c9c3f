import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, logRedisAdvice, readRedisSettings } from '@archiver/core';
import { freePort, startRedis, type RedisService } from '@archiver/testkit';
import { spawnApp } from './process.js';

let service: RedisService;
let admin: Redis;

beforeAll(async () => {
  service = await startRedis();
  admin = new Redis(service.url);
});
afterAll(async () => {
  await admin.quit();
  await service.stop();
});

/** The lines a logger wrote, parsed. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('Redis settings: read from a real Redis and logged once at start-up', () => {
  it('reads the policy, the AOF and the listpack limit as Redis reports them', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'hash-max-listpack-value', '64');
    const redis = createRedis(service.url, 'worker');
    try {
      expect(await readRedisSettings(redis)).toEqual({
        maxmemoryPolicy: 'allkeys-lru',
        aofEnabled: false,
        hashMaxListpackValue: 64,
      });
      const { logger, lines } = capturingLogger();
      const advice = await logRedisAdvice(redis, logger);
      expect(advice.map((a) => a.setting)).toEqual([
        'maxmemory-policy',
        'appendonly',
        'hash-max-listpack-value',
      ]);
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
        expect.stringMatching(/^Redis maxmemory-policy is allkeys-lru, want noeviction: /),
        expect.stringMatching(/^Redis appendonly is no, want yes: /),
        expect.stringMatching(/^Redis hash-max-listpack-value is 64, want 4096: /),
      ]);
    } finally {
      await redis.quit();
    }
  });

  it('says nothing of a Redis set as compose and `npm run dev` set theirs', async () => {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'appendonly', 'yes');
    await admin.config('SET', 'hash-max-listpack-value', '4096');
    const redis = createRedis(service.url, 'worker');
    try {
      const { logger, lines } = capturingLogger();
      expect(await logRedisAdvice(redis, logger)).toEqual([]);
      expect(lines).toEqual([]);
    } finally {
      await redis.quit();
    }
  });

  it('where CONFIG is refused, as on many managed Redis, judges from INFO alone', async () => {
    const user = `archiver-${Date.now()}`;
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret-pass', '~*', '+@all', '-config');
    const redis = createRedis(
      `redis://${user}:secret-pass@127.0.0.1:${new URL(service.url).port}`,
      'worker',
    );
    try {
      await expect(redis.call('CONFIG', 'GET', 'maxmemory')).rejects.toThrow(/NOPERM/);
      const settings = await readRedisSettings(redis);
      expect(settings).toMatchObject({ maxmemoryPolicy: 'volatile-lru' });
      expect(settings.hashMaxListpackValue).toBeUndefined();
    } finally {
      await redis.quit();
      await admin.call('ACL', 'DELUSER', user);
    }
  });
});

describe('the worker process warns of an evicting Redis as it starts', () => {
  it('logs the advice once, and starts all the same', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const s3 = inject('s3');
    const worker = spawnApp('worker', {
      REDIS_URL: service.url,
      QUEUE_PREFIX: 'settings',
      // Green-API is not needed to start: a closed port stands in for it.
      GREEN_API_INSTANCES: JSON.stringify([
        {
          idInstance: '1101000001',
          apiTokenInstance: 'settings-token',
          apiUrl: 'http://127.0.0.1:9',
        },
      ]),
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      METRICS_PORT: String(await freePort()),
    });
    try {
      await expect
        .poll(() => worker.output(), { timeout: 30_000, interval: 200 })
        .toMatch(/"msg":"worker started"/);
      await expect
        .poll(() => worker.output(), { timeout: 5_000, interval: 100 })
        .toMatch(/Redis maxmemory-policy is allkeys-lru, want noeviction/);
      expect(worker.output().match(/Redis maxmemory-policy is/g)).toHaveLength(1);
    } finally {
      await worker.kill('SIGTERM');
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
});
