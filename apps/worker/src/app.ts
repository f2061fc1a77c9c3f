import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { Telemetry, Worker } from 'bullmq';
import type { Logger } from 'pino';
import {
  redisKeys,
  createArchiveQueue,
  createHealthServer,
  createBackfill,
  createJobWriter,
  createRecordJobWriter,
  createRecordedIndex,
  createRecordQueue,
  createStatusReader,
  createLastSeen,
  retentionResolver,
  createMetrics,
  createRateLimiter,
  createRedis,
  createS3Client,
  createInstanceRegistry,
  logRedisAdvice,
  type Config,
  type InstanceRegistry,
  type InstanceConfig,
} from '@archiver/core';
import { createGreenApiClient, type GreenApiClient, type InstanceKind } from '@archiver/greenapi';
import { createArchiveProcessor } from './jobs/archive-file.js';
import { createHostGuard } from './download-hosts.js';

import { createObjectStore } from './storage/object-store.js';
import { createWorkerHolds } from './storage/holds.js';
import { createWorkerCustody } from './custody.js';
import { createArchiveWorker } from './worker.js';
import { createRecordProcessor } from './jobs/record-event.js';
import { createRecordWorker } from './record-worker.js';
import { startBackfillWorker } from './backfill-worker.js';
import { createLostJobSweep } from './lost-jobs.js';
import { startLostJobSweeper } from './lost-job-sweeper.js';
import { startStatusesWorker } from './statuses-worker.js';
import { startCheckWorker } from './check-worker.js';

export type RunningWorker = {
  port: number;
  worker: Worker;
  recordWorker: Worker;
  stop(): Promise<void>;
};

/**
 * Wires one worker process: Redis, S3, Green-API clients, the archive worker, the periodic
 * journal reconciliation, the lost-job sweep and the health/metrics server. `main.ts` calls it with the environment's config; tests, `dev` and
 * the benchmarks call it in-process.
 */
export async function startWorker(
  config: Config,
  logger: Logger,
  opts: {
    port?: number;
    s3?: Partial<S3ClientConfig>;
    telemetry?: Telemetry;
    /** The lost-job sweep's schedule and grace, shortened by tests. */
    lostJobs?: { intervalMs?: number; graceMs?: number };
    /** Reloadable instances (main.ts); default: the configuration's, fixed. */
    registry?: InstanceRegistry;
    /** How long a job of an unknown instance waits before it ends recorded; tests shorten it. */
    unknownInstanceGraceMs?: number;
  } = {},
): Promise<RunningWorker> {
  if (!config.s3) throw new Error('S3_BUCKET is required for the worker');
  const connection = createRedis(config, 'worker');
  // The archiver's own commands (rate limiter, done markers) on a connection of their own
  // with auto-pipelining: the commands of concurrent jobs leave in one write. Never on
  // BullMQ's connection (BullMQ issue 457).
  const commands = createRedis(config, 'worker', { enableAutoPipelining: true });
  // Not awaited: a Redis that evicts or keeps no AOF is worth a warning, not a later start.
  void logRedisAdvice(commands, logger);
  const keys = redisKeys(config.queuePrefix);
  const queue = createArchiveQueue(connection, config.queuePrefix, opts.telemetry);
  const registry = opts.registry ?? createInstanceRegistry({ config, load: () => config, logger });
  // Served now: ingest-side lookups, backfill, checks. `lookup` also knows removed instances,
  // so their queued jobs still run (or end recorded) after a reload.
  const instances = registry.current;
  const metrics = createMetrics({ queue, redis: connection, keys, instanceIds: () => instances });
  const s3 = createS3Client(config.s3, opts.s3);
  // Every object the store writes is entered in the custody log (docs/custody.md).
  const custody = createWorkerCustody({
    config,
    s3Config: config.s3,
    s3,
    connection,
    commands,
    registry: metrics.registry,
    logger,
  });
  // Objects written into a held chat carry the legal hold (docs/legal-hold.md).
  const store = createObjectStore(s3, config.s3, {
    onWritten: custody.onWritten,
    holds: createWorkerHolds(s3, config.s3, logger),
  });
  // Asked now so the log says which it is; a store that cannot be reached is asked again at
  // the first record.
  store.recordWriteMode().then(
    (mode) => logger.info({ mode }, 'records are written write-once'),
    (err: unknown) => logger.warn({ err }, 'could not ask S3 about conditional writes yet'),
  );
  const clients = new Map<string, GreenApiClient>();
  const clientFor = (instance: InstanceConfig, kind: InstanceKind) => {
    const id = `${instance.idInstance}:${kind}`;
    let client = clients.get(id);
    if (!client) {
      client = createGreenApiClient(
        { ...instance, kind: instance.kind ?? kind },
        {
          onResponse: (method, status) =>
            metrics.greenApiRequests.inc({ method, status: String(status) }),
        },
      );
      clients.set(id, client);
    }
    return client;
  };
  const limiter = createRateLimiter(commands, keys);
  let hostGuard = createHostGuard(config.downloadHosts);
  const processor = createArchiveProcessor({
    config,
    instances: registry.lookup,
    clientFor,
    store,
    limiter,
    redis: commands,
    keys,
    // A new instance's apiUrl/mediaUrl hosts are allowed from its reload on.
    guard: (url) => hostGuard(url),
    metrics,
    logger: logger.child({ component: 'archive' }),
    unknownInstanceGraceMs: opts.unknownInstanceGraceMs,
  });
  const jobWriter = createJobWriter({
    redis: connection,
    queue,
    keys,
    retentionDays: retentionResolver(instances, config.retentionDays),
  });
  // Journal finds and statuses without a file become record jobs (docs/conversation.md §7).
  const recordQueue = createRecordQueue(connection, config.queuePrefix, opts.telemetry);
  const recordJobs = createRecordJobWriter(recordQueue);
  // As far back as a scheduled journal read reaches, plus one interval (recorded-index.ts).
  const recorded = createRecordedIndex(
    commands,
    config.queuePrefix,
    config.backfill.intervalMinutes > 0
      ? (config.backfill.windowMinutes + config.backfill.intervalMinutes) * 60_000
      : 0,
  );
  const backfill = createBackfill({
    writer: jobWriter,
    records: recordJobs,
    recorded,
    limiter,
    clientFor: (instance) => clientFor(instance, instance.kind ?? 'whatsapp'),
    instances,
    retentionDays: config.retentionDays,
    windowMinutes: config.backfill.windowMinutes,
    metrics,
    logger: logger.child({ component: 'backfill' }),
  });
  const backfillWorker = await startBackfillWorker({
    connection,
    prefix: config.queuePrefix,
    config,
    backfill,
    logger,
  });
  const statusesWorker = await startStatusesWorker({
    connection,
    prefix: config.queuePrefix,
    config,
    reader: createStatusReader({
      redis: commands,
      queuePrefix: config.queuePrefix,
      writer: jobWriter,
      records: recordJobs,
      limiter,
      clientFor: (instance) => clientFor(instance, instance.kind ?? 'whatsapp'),
      instances,
      retentionDays: config.retentionDays,
      windowMinutes: config.statuses.windowMinutes,
      metrics,
      logger,
    }),
    logger,
  });
  const checkWorker = await startCheckWorker({
    connection,
    prefix: config.queuePrefix,
    intervalMinutes: config.instanceCheckIntervalMinutes,
    ids: config.instances.map((i) => i.idInstance),
    checks: {
      instances,
      clientFor: (instance) => clientFor(instance, instance.kind ?? 'whatsapp'),
      limiter,
      lastSeen: createLastSeen(commands, keys),
      redis: commands,
      keys,
      webhookUrl: config.webhookUrl,
    },
    logger,
  });
  const worker = createArchiveWorker({
    connection,
    config,
    instances: registry.lookup,
    processor,
    logger,
    telemetry: opts.telemetry,
  });
  const recordWorker = createRecordWorker({
    connection,
    config,
    processor: createRecordProcessor({
      prefix: config.s3.prefix,
      // Write-once (nothing found is replaced) and entered in the custody log.
      putRecordOnce: async (key, record) => ({
        written: (await store.putRecord(key, record)).written,
      }),
      onRecorded: (data, jobId) => recorded.add(data.idInstance, jobId),
      metrics,
      logger: logger.child({ component: 'record' }),
    }),
    logger,
    telemetry: opts.telemetry,
  });
  registry.onChange(async (change, next) => {
    // A changed token or apiUrl needs a new client; a removed instance's is not needed.
    for (const id of [...change.changed, ...change.removed]) {
      for (const kind of ['whatsapp', 'max']) clients.delete(`${id}:${kind}`);
    }
    hostGuard = createHostGuard(next.downloadHosts);
    metrics.forgetInstances(change.removed);
    if (change.added.length + change.removed.length === 0) return;
    const ids = next.instances.map((i) => i.idInstance);
    await backfillWorker.schedule(next.instances);
    await statusesWorker.schedule(next.instances);
    await checkWorker.schedule(ids);
  });
  await custody.start();
  // Jobs that vanish without an end are recorded in S3 and counted (docs/storage.md §6).
  const sweeper = await startLostJobSweeper({
    connection,
    prefix: config.queuePrefix,
    intervalMs: opts.lostJobs?.intervalMs,
    sweep: createLostJobSweep({
      redis: connection,
      keys,
      store,
      s3Prefix: config.s3.prefix,
      instances,
      metrics,
      logger,
      graceMs: opts.lostJobs?.graceMs,
    }),
    logger,
  });
  const server = createHealthServer({
    registry: metrics.registry,
    checks: { redis: () => connection.ping(), s3: () => store.ping() },
  });
  server.listen(opts.port ?? config.metricsPort);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    worker,
    recordWorker,
    async stop() {
      server.close();
      await Promise.all([
        closeGracefully(worker, config.shutdownTimeoutMs, logger),
        closeGracefully(recordWorker, config.shutdownTimeoutMs, logger),
      ]);
      await backfillWorker.close();
      await sweeper.close();
      await statusesWorker.close();
      await recordQueue.close();
      await checkWorker.close();
      await custody.close();
      await queue.close();
      s3.destroy();
      await commands.quit().catch(() => undefined);
      await connection.quit().catch(() => undefined);
    },
  };
}

/**
 * Stops taking jobs and lets in-flight ones finish. Past the timeout their signals are
 * aborted: uploads abort (no partial object) and the jobs go back to the queue.
 */
async function closeGracefully(worker: Worker, timeoutMs: number, logger: Logger) {
  const timer = setTimeout(() => {
    logger.warn({ timeoutMs }, 'shutdown timeout: aborting in-flight jobs; they will run again');
    worker.cancelAllJobs('worker shutting down');
  }, timeoutMs);
  try {
    await worker.close();
  } finally {
    clearTimeout(timer);
  }
}
