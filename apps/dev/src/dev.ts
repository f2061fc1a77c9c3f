import { mkdir } from 'node:fs/promises';
import { ConfigError, configSecrets, createLogger, loadConfig } from '@archiver/core';
import { banner } from './banner.js';
import { prettyDestination } from './log-format.js';
import { DevError, loadDevSettings } from './settings.js';
import { devSealKeyPath, ensureDevSealKey } from './seal-key.js';
import { removeState, writeState } from './state.js';
import { startSystem } from './system.js';

/**
 * `npm run dev`: the whole system on one machine, with embedded defaults. Composition root:
 * settings → logger → system → banner → wait for a signal → stop everything → exit 0.
 */
async function main(): Promise<void> {
  const settings = loadDevSettings(process.env);
  if (!process.env.SEAL_SIGNING_KEY) ensureDevSealKey(devSealKeyPath(settings.dataDir));
  const config = loadConfig(settings.archiverEnv, 'worker', { dev: true });
  const logger = createLogger({
    level: config.logLevel,
    name: 'dev',
    secrets: configSecrets(config),
    ...(settings.logFormat === 'pretty' ? { destination: prettyDestination() } : {}),
  });
  // A signal during start-up is held until everything started can be stopped in order.
  let requested: NodeJS.Signals | undefined;
  let onSignal = (signal: NodeJS.Signals) => void (requested ??= signal);
  for (const signal of SIGNALS) process.on(signal, (s) => onSignal(s));

  await mkdir(settings.dataDir, { recursive: true });
  const system = await startSystem(settings, logger);
  await writeState(settings.dataDir, system.state);
  if (!requested) process.stdout.write(`${banner(system.state)}\n`);

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    // The terminal sends Ctrl-C to the whole process group: scripts/dev.mjs forwards it too.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: receiver, worker, simulator, S3, Redis');
    const ok = await system.stop();
    await removeState(settings.dataDir);
    logger.info(ok ? 'stopped' : 'stopped, with errors (see above)');
    logger.flush();
    process.exit(ok ? 0 : 1);
  };
  onSignal = (signal) => void shutdown(signal);
  if (requested) onSignal(requested);
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

main().catch((err: unknown) => {
  // Problems the developer can fix are printed as they are; anything else with its stack.
  const text =
    err instanceof DevError || err instanceof ConfigError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`\ndev could not start:\n${text}\n`);
  process.exit(1);
});
