import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type createLogger } from '@archiver/core';
import {
  closeGracefully,
  createApp,
  createReceiverServices,
  listen,
  WEBHOOK_PATH,
} from '@archiver/receiver';
import { s3ClientConfig } from '@archiver/testkit';
// The worker package exports no entry point yet; its composition function is imported
// from source until `@archiver/worker` exports startWorker.
import { startWorker } from '@archiver/worker';
import { assertPortsFree } from './ports.js';
import { ensureRedis } from './redis.js';
import { startEmbeddedS3 } from './embedded-s3.js';
import { DEMO, type DevSettings } from './settings.js';
import { startSimulator } from './simulator.js';
import type { DevState } from './state.js';

type Logger = ReturnType<typeof createLogger>;

export type RunningSystem = {
  state: DevState;
  /** Stops everything in reverse order of start; false when some part failed to stop. */
  stop(): Promise<boolean>;
};

type Part = { name: string; stop(): Promise<unknown> };

const REDIS_WAIT_MS = 10_000;
const RECEIVER_GRACE_MS = 5_000;

/**
 * The whole archiver on one machine: Redis, the embedded S3, the Green-API simulator, and
 * the receiver and the worker in this process, each wired as its own main.ts wires it.
 */
export async function startSystem(settings: DevSettings, logger: Logger): Promise<RunningSystem> {
  const receiverConfig = loadConfig(settings.archiverEnv, 'receiver', { dev: true });
  const workerConfig = loadConfig(settings.archiverEnv, 'worker', { dev: true });
  const s3Config = workerConfig.s3;
  if (!s3Config) throw new Error('S3_BUCKET is required');
  await assertPortsFree([
    { port: receiverConfig.port, variable: 'PORT', what: 'receiver' },
    { port: workerConfig.metricsPort, variable: 'METRICS_PORT', what: 'worker metrics' },
    { port: settings.ports.simulator, variable: 'SIMULATOR_PORT', what: 'Green-API simulator' },
    {
      port: settings.ports.control,
      variable: 'SIMULATOR_CONTROL_PORT',
      what: 'simulator control API',
    },
    { port: settings.ports.s3, variable: 'S3RVER_PORT', what: 'embedded S3' },
  ]);

  const parts: Part[] = [];
  const stop = () => stopParts(parts, logger);
  try {
    const redis = await ensureRedis(workerConfig.redisUrl, join(settings.dataDir, 'redis'));
    parts.push({ name: 'redis', stop: redis.stop });
    logger.info({ redis: redis.describe }, 'redis ready');

    const s3 = await startEmbeddedS3({
      dataDir: join(settings.dataDir, 's3'),
      port: settings.ports.s3,
      bucket: s3Config.bucket,
    });
    parts.push({ name: 's3', stop: s3.close });

    const simulator = await startSimulator({
      port: settings.ports.simulator,
      controlPort: settings.ports.control,
      instances: DEMO.instances,
    });
    parts.push({ name: 'simulator', stop: simulator.close });

    const worker = await startWorker(workerConfig, logger.child({ app: 'worker' }), {
      s3: s3ClientConfig(s3.connection),
    });
    parts.push({ name: 'worker', stop: worker.stop });

    const receiverLogger = logger.child({ app: 'receiver' });
    // The review page reads the embedded S3 with its keys, as the worker writes it.
    const services = createReceiverServices(
      receiverConfig,
      receiverLogger,
      undefined,
      undefined,
      s3ClientConfig(s3.connection),
    );
    parts.push({ name: 'receiver services', stop: services.close });
    await waitForRedis(services.redis);
    const server = await listen(
      createApp({ config: receiverConfig, logger: receiverLogger, ...services }),
      receiverConfig.port,
      '127.0.0.1',
      receiverConfig.http,
    );
    parts.push({ name: 'receiver', stop: () => closeGracefully(server, RECEIVER_GRACE_MS) });

    const receiverUrl = `http://127.0.0.1:${receiverConfig.port}`;
    const state: DevState = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      receiverUrl,
      webhookUrl: `${receiverUrl}${WEBHOOK_PATH}`,
      webhookToken: receiverConfig.webhookToken ?? DEMO.webhookToken,
      workerUrl: `http://127.0.0.1:${worker.port}`,
      admin: {
        url: `${receiverUrl}/admin/queues`,
        user: receiverConfig.admin?.user ?? '',
        password: receiverConfig.admin?.password ?? '',
      },
      review: {
        url: `${receiverUrl}/review/`,
        user: receiverConfig.review?.user ?? '',
        password: receiverConfig.review?.password ?? '',
      },
      simulator: { url: simulator.url, controlUrl: simulator.controlUrl },
      instances: DEMO.instances.map(({ idInstance, kind }) => ({ idInstance, kind })),
      s3: { ...s3.connection, prefix: s3Config.prefix, dataDir: s3.dataDir },
      redis: {
        url: redis.url,
        ...(redis.pid ? { pid: redis.pid } : {}),
        describe: redis.describe,
        queuePrefix: workerConfig.queuePrefix,
      },
    };
    return { state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The producer connection refuses commands until connected (fail-fast, no offline queue). */
async function waitForRedis(redis: { ping(): Promise<unknown> }): Promise<void> {
  const deadline = Date.now() + REDIS_WAIT_MS;
  for (;;) {
    try {
      await redis.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

async function stopParts(parts: Part[], logger: Logger): Promise<boolean> {
  let ok = true;
  for (const part of parts.splice(0).reverse()) {
    try {
      await part.stop();
    } catch (err) {
      ok = false;
      logger.error({ err, part: part.name }, 'failed to stop');
    }
  }
  return ok;
}
