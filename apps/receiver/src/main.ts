import { readFileSync } from 'node:fs';
import {
  ConfigError,
  configSecrets,
  createInstanceRegistry,
  createLogger,
  instancesFile,
  loadConfig,
  watchInstances,
  startTelemetry,
  type Config,
} from '@archiver/core';

/** Composition root: config → logger → Redis services → app → listen → shutdown. */
async function main(): Promise<void> {
  const config = loadOrExit();
  const secrets = configSecrets(config);
  const logger = createLogger({ level: config.logLevel, name: 'receiver', secrets });
  // Tracing must patch http before Express loads: the app modules are imported after it.
  const telemetry = await startTelemetry({
    serviceName: 'archiver-receiver',
    endpoint: config.otelEndpoint,
    secrets,
  });
  const [{ createApp }, { closeGracefully, listen, listenUrl }, { createReceiverServices }] =
    await Promise.all([import('./app.js'), import('./server.js'), import('./wiring.js')]);
  if (config.allowUnauthenticatedWebhooks) {
    logger.warn('ALLOW_UNAUTHENTICATED_WEBHOOKS=true: webhooks are not authenticated');
  }

  // GREEN_API_INSTANCES=@file: reloaded on change and on SIGHUP, without a restart.
  const registry = createInstanceRegistry({
    config,
    load: () => loadConfig(process.env, 'receiver'),
    logger,
  });
  // Spans, like log lines, are scrubbed of a reloaded instance's tokens too.
  registry.onChange((_change, next) => telemetry?.updateSecrets(configSecrets(next)));
  const watcher = watchInstances(registry, {
    file: instancesFile(process.env),
    logger,
    readFile: (path) => readFileSync(path, 'utf8'),
  });
  // Started even while Redis is down: /healthz answers, /readyz and webhooks say 503.
  const services = createReceiverServices(config, logger, telemetry?.bullmq, registry);
  const app = createApp({ config, logger, ...services, registry });
  const server = await listen(app, config.port, undefined, config.http);
  const url = listenUrl(server);
  logger.info(
    { url, instances: config.instances.length, admin: !!config.admin, review: !!config.review },
    'receiver listening',
  );

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight webhooks');
    // Load balancers stop sending once connections are refused; every accepted webhook
    // still gets its answer (and its job) before Redis is closed.
    if (!(await closeGracefully(server, config.shutdownTimeoutMs))) {
      logger.warn({ graceMs: config.shutdownTimeoutMs }, 'connections cut after the grace period');
    }
    watcher.close();
    await services.close();
    await telemetry?.shutdown();
    // pino's destination flushes synchronously on exit.
    logger.info('receiver stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

function loadOrExit(): Config {
  try {
    return loadConfig(process.env, 'receiver');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // ConfigError messages never quote a secret (core config.ts).
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`receiver failed to start: ${message}\n`);
  process.exit(1);
});
