import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import {
  redisKeys,
  createArchiveQueue,
  createJobWriter,
  createLogger,
  createInstanceRegistry,
  createRedis,
  instanceMap,
  loadConfig,
  watchInstances,
  retentionResolver,
  type ArchiveQueue,
  type Config,
  type InstanceRegistry,
  type S3Timeouts,
} from '@archiver/core';
import { s3ClientConfig, startFakeGreenApi } from '@archiver/testkit';
import { startWorker, type RunningWorker } from '../src/app.js';

export const WA = {
  idInstance: '1101000001',
  apiTokenInstance: 'wa-api-token-7f3a9c',
  kind: 'whatsapp' as const,
};
export const MAX = {
  idInstance: '3100000000',
  apiTokenInstance: 'max-api-token-b81e44',
  kind: 'max' as const,
};

/**
 * A worker wired to the shared Redis and S3 of the int project and a fresh fake Green-API,
 * each test file under its own queue prefix and S3 prefix. Logs are captured in memory so a
 * test can assert that no secret reached them.
 */
export async function startPipeline(
  envOverrides: Record<string, string> = {},
  opts: {
    s3Endpoint?: string;
    /** The S3 client's connection and silence timeouts, shortened for a test. */
    s3Timeouts?: S3Timeouts;
    /** The lost-job sweep's schedule and grace, shortened for a test. */
    lostJobs?: { intervalMs?: number; graceMs?: number };
    /**
     * GREEN_API_INSTANCES=@file, reloaded as main.ts does (watched, debounced 50 ms); each
     * (re)start of the worker reads the file anew, as a restarted process would.
     */
    instancesFile?: boolean;
    /** How long a job of an unknown instance waits before it ends recorded. */
    unknownInstanceGraceMs?: number;
  } = {},
) {
  const fake = await startFakeGreenApi();
  fake.addInstance(WA);
  fake.addInstance(MAX);
  const s3 = inject('s3');
  const prefix = `t${randomUUID().slice(0, 8)}`;
  /** An instance as the configuration names it, pointing at the fake. */
  const entryOf = (i: { idInstance: string; apiTokenInstance: string; kind: string }) => ({
    ...i,
    apiUrl: fake.url,
    webhookToken: `hook-${i.idInstance}`,
  });
  const instances = [WA, MAX].map(entryOf);
  const dir = opts.instancesFile ? mkdtempSync(join(tmpdir(), 'instances-')) : undefined;
  const file = dir && join(dir, 'instances.json');
  /** As editors and ConfigMaps do: a new file renamed over the old one. */
  const writeInstances = (content: string) => {
    if (!dir || !file) throw new Error('startPipeline: no instancesFile');
    const tmp = join(dir, `.tmp-${randomUUID()}`);
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  };
  if (file) writeInstances(JSON.stringify(instances));
  const env = {
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: prefix,
    GREEN_API_INSTANCES: file ? `@${file}` : JSON.stringify(instances),
    S3_BUCKET: s3.bucket,
    S3_PREFIX: `${prefix}/`,
    S3_ENDPOINT: s3.endpoint,
    RETRY_BASE_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '200',
    WORKER_CONCURRENCY: '8',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...envOverrides,
  };
  const config = loadConfig(env, 'worker');
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', name: 'test', destination, secrets: [] });
  const producer = createRedis(config.redisUrl, 'producer', { enableOfflineQueue: true });
  const queue = createArchiveQueue(producer, prefix);
  const writer = createJobWriter({
    redis: producer,
    queue,
    keys: redisKeys(prefix),
    retentionDays: retentionResolver(instanceMap(config.instances), config.retentionDays),
  });
  const s3Overrides = {
    ...s3ClientConfig(s3),
    endpoint: opts.s3Endpoint ?? s3.endpoint,
    ...(opts.s3Timeouts ? { requestHandler: opts.s3Timeouts } : {}),
  };
  const workerOpts = {
    port: 0,
    s3: s3Overrides,
    lostJobs: opts.lostJobs,
    unknownInstanceGraceMs: opts.unknownInstanceGraceMs,
  };
  let registry: InstanceRegistry | undefined;
  let watcher: { close(): void } | undefined;
  /** A worker as main.ts starts it: on the file's content now, watching it. */
  const start = async (overrides: Partial<Config> = {}) => {
    if (!file) return startWorker({ ...config, ...overrides }, logger, workerOpts);
    watcher?.close();
    const load = () => loadConfig(env, 'worker');
    const now = { ...load(), ...overrides };
    registry = createInstanceRegistry({ config: now, load, logger });
    watcher = watchInstances(registry, {
      file,
      logger,
      debounceMs: 50,
      readFile: (path) => readFileSync(path, 'utf8'),
    });
    return startWorker(now, logger, { ...workerOpts, registry });
  };
  let worker: RunningWorker | undefined = await start();
  return {
    fake,
    config,
    /** The S3 client settings the worker was given (the test server, its credentials). */
    s3Overrides: s3Overrides as Partial<S3ClientConfig>,
    prefix,
    queue,
    writer,
    logs,
    logger,
    producer,
    get worker() {
      return worker;
    },
    /** The running worker's instances (with `instancesFile`). */
    get registry() {
      return registry;
    },
    entryOf,
    writeInstances,
    async restartWorker(overrides: Partial<Config> = {}) {
      await worker?.stop();
      worker = await start(overrides);
    },
    async stopWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async close() {
      watcher?.close();
      await worker?.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      const cleaner = new Redis(config.redisUrl);
      const stale = await cleaner.keys(`${prefix}:*`);
      if (stale.length > 0) await cleaner.del(...stale);
      await cleaner.quit();
      await producer.quit();
      await fake.close();
    },
  };
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

export async function jobState(queue: ArchiveQueue, jobId: string): Promise<string> {
  return (await queue.getJob(jobId))?.getState() ?? 'missing';
}
