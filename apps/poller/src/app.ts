import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  createHealthServer,
  createIngestPath,
  createLastSeen,
  createMetrics,
  createRedis,
  reportQuarantineDrops,
  type Config,
  type Metrics,
  type InstanceConfig,
  type InstanceRegistry,
  type RedisClient,
} from '@archiver/core';
import { createGreenApiClient } from '@archiver/greenapi';
import { createPoller, instancesToPoll, type Poller } from './poller.js';

export type RunningPoller = {
  port: number;
  poller: Poller;
  polled: string[];
  stop(): Promise<void>;
};

/**
 * Wires one poller process: RedisClient, the archive queue and the same ingest path as the
 * receiver, one Green-API client per polled instance, and the health/metrics server.
 * `main.ts` calls it with the environment's config; tests call it in-process.
 */
export async function startPoller(
  config: Config,
  logger: Logger,
  opts: { port?: number; receiveTimeoutSeconds?: number; registry?: InstanceRegistry } = {},
): Promise<RunningPoller> {
  // Fails fast like the receiver's: while Redis is down ingest throws and nothing is deleted.
  const redis = createRedis(config, 'producer');
  watchRedis(redis, logger);
  // The metrics are built on the queue the ingest path makes: the drop counter comes after.
  const late: { metrics?: Metrics } = {};
  const { keys, queue, recordQueue, ingest } = createIngestPath(redis, config, {
    onQuarantineDrop: reportQuarantineDrops(() => late.metrics, logger),
    instances: opts.registry?.current,
  });
  queue.on('error', (err) => logger.warn({ err, component: 'queue' }, 'queue error'));
  const metrics = createMetrics({ queue, redis, keys });
  late.metrics = metrics;
  const clientFor = (instance: InstanceConfig) =>
    createGreenApiClient(
      { ...instance, kind: instance.kind ?? 'whatsapp' },
      {
        onResponse: (method, status) =>
          metrics.greenApiRequests.inc({ method, status: String(status) }),
      },
    );
  const polled = instancesToPoll(config.instances);
  const poller = createPoller({
    instances: polled,
    clientFor,
    ingest,
    logger,
    metrics,
    lastSeen: createLastSeen(redis, keys),
    receiveTimeoutSeconds: opts.receiveTimeoutSeconds,
  });

  const server = createHealthServer({
    registry: metrics.registry,
    // Ready when polled notifications can be stored.
    checks: { redis: () => redis.ping() },
  });
  server.listen(opts.port ?? config.pollerMetricsPort);
  await once(server, 'listening');
  poller.start();
  // A reload polls what the new configuration says (instancesToPoll's rule again).
  opts.registry?.onChange((change, next) => {
    poller.update(instancesToPoll(next.instances));
    metrics.forgetInstances(change.removed);
  });

  return {
    port: (server.address() as AddressInfo).port,
    poller,
    polled: polled.map((i) => i.idInstance),
    async stop() {
      const stopped = await withTimeout(poller.stop(), config.shutdownTimeoutMs);
      if (!stopped) {
        logger.warn(
          { timeoutMs: config.shutdownTimeoutMs },
          'poller did not stop in time; closing anyway',
        );
      }
      server.close();
      await queue.close().catch((err: unknown) => logger.warn({ err }, 'queue close failed'));
      await recordQueue.close().catch((err: unknown) => logger.warn({ err }, 'queue close failed'));
      // QUIT needs a live connection; during an outage just drop the socket.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Logs a Redis outage once, not once per reconnect attempt. */
function watchRedis(redis: RedisClient, logger: Logger) {
  const log = logger.child({ component: 'redis' });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.error({ err }, 'redis unreachable: notifications stay in Green-API until it is back');
  });
  redis.on('ready', () => {
    if (down) log.info('redis reachable again');
    down = false;
  });
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
