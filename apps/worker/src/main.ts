import { readFileSync } from 'node:fs';
import {
  ConfigError,
  configSecrets,
  createInstanceRegistry,
  createLogger,
  instancesFile,
  loadConfig,
  startTelemetry,
  watchInstances,
} from '@archiver/core';

async function main() {
  let config;
  try {
    config = loadConfig(process.env, 'worker');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const secrets = configSecrets(config);
  const logger = createLogger({ level: config.logLevel, name: 'worker', secrets });
  // Tracing must patch http and the AWS SDK before they load: the app is imported after it.
  const telemetry = await startTelemetry({
    serviceName: 'archiver-worker',
    endpoint: config.otelEndpoint,
    secrets,
  });
  const { startWorker } = await import('./app.js');
  // GREEN_API_INSTANCES=@file: reloaded on change and on SIGHUP, without a restart.
  const registry = createInstanceRegistry({
    config,
    load: () => loadConfig(process.env, 'worker'),
    logger,
  });
  // Spans, like log lines, are scrubbed of a reloaded instance's tokens too.
  registry.onChange((_change, next) => telemetry?.updateSecrets(configSecrets(next)));
  const watcher = watchInstances(registry, {
    file: instancesFile(process.env),
    logger,
    readFile: (path) => readFileSync(path, 'utf8'),
  });
  // Workers take jobs before startWorker resolves, so the signal handlers go in first: a
  // SIGTERM during start-up (a rollout) waits for the start, then drains what it took.
  const starting = startWorker(config, logger, { telemetry: telemetry?.bullmq, registry });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight jobs');
    starting
      .then(async (running) => {
        watcher.close();
        await running.stop();
        await telemetry?.shutdown();
      })
      .then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const running = await starting;
  if (stopping) return;
  logger.info(
    {
      metricsPort: running.port,
      concurrency: config.workerConcurrency,
      tracing: Boolean(telemetry),
    },
    'worker started',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
