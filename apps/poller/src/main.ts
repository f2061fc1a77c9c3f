import { readFileSync } from 'node:fs';
import {
  ConfigError,
  configSecrets,
  createInstanceRegistry,
  createLogger,
  instancesFile,
  loadConfig,
  watchInstances,
  type Config,
} from '@archiver/core';
import { startPoller } from './app.js';

/** `start:poller`: receiveNotification/deleteNotification instead of webhooks (docs/architecture.md §7). */
async function main() {
  const config = loadOrExit();
  const logger = createLogger({
    level: config.logLevel,
    name: 'poller',
    secrets: configSecrets(config),
  });
  // GREEN_API_INSTANCES=@file: reloaded on change and on SIGHUP, without a restart.
  const registry = createInstanceRegistry({
    config,
    load: () => loadConfig(process.env, 'poller'),
    logger,
  });
  const running = await startPoller(config, logger, { registry });
  const watcher = watchInstances(registry, {
    file: instancesFile(process.env),
    logger,
    readFile: (path) => readFileSync(path, 'utf8'),
  });
  logger.info({ metricsPort: running.port, instances: running.polled }, 'poller started');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing the notifications in hand');
    watcher.close();
    running.stop().then(
      () => {
        logger.info('poller stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function loadOrExit(): Config {
  try {
    return loadConfig(process.env, 'poller');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `poller failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
