import type { S3Client } from '@aws-sdk/client-s3';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config, S3Config } from '@archiver/core';
import {
  createCustodyLog,
  createCustodyMetrics,
  createCustodyStore,
  createSigner,
  createTimestamper,
  custodyKeys,
  custodyRecorder,
  removeSealScheduler,
  sealPending,
  startSealScheduler,
  type Written,
} from '@archiver/custody';

export type WorkerCustody = {
  /** The object store's hook; undefined when custody is off. */
  onWritten?: (w: Written) => Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
};

/**
 * The worker's side of the chain of custody: the custody log its object store reports to,
 * and the periodic sealer. Both need SEAL_SIGNING_KEY: without it nothing would ever seal
 * the entries, and a log nobody trims would only grow in Redis (which must not evict), so
 * custody is off with a warning; `archiver seal --rescan` enters the objects written
 * meanwhile once a key is set.
 */
export function createWorkerCustody(deps: {
  config: Pick<Config, 'queuePrefix' | 'custody'>;
  s3Config: S3Config;
  s3: S3Client;
  /** BullMQ's connection (the scheduler and its worker). */
  connection: Redis | Cluster;
  /** The auto-pipelined connection: entries travel with the job's other commands. */
  commands: Redis | Cluster;
  registry: Registry;
  logger: Logger;
}): WorkerCustody {
  const { custody } = deps.config;
  const log = deps.logger.child({ component: 'custody' });
  if (!custody.signingKey) {
    log.warn(
      'SEAL_SIGNING_KEY is not set: objects are not entered in the custody log, nothing is sealed',
    );
    createCustodyMetrics(deps.registry);
    return {
      // A scheduler left by an earlier run with a key would only queue seals nobody takes.
      start: () => removeSealScheduler(deps.connection, deps.config.queuePrefix),
      close: async () => undefined,
    };
  }
  const keys = custodyKeys(deps.config.queuePrefix);
  const custodyLog = createCustodyLog(deps.commands, keys);
  const metrics = createCustodyMetrics(deps.registry, custodyLog, custody.intervalMinutes * 60_000);
  const signer = createSigner(custody.signingKey);
  const store = createCustodyStore(deps.s3, deps.s3Config);
  let scheduler: Awaited<ReturnType<typeof startSealScheduler>> | undefined;
  return {
    onWritten: custodyRecorder(custodyLog),
    async start() {
      scheduler = await startSealScheduler({
        connection: deps.connection,
        prefix: deps.config.queuePrefix,
        intervalMs: custody.intervalMinutes * 60_000,
        logger: log,
        seal: () =>
          sealPending({
            redis: deps.commands,
            keys,
            log: createCustodyLog(deps.commands, keys),
            store,
            signer,
            timestamper: custody.tsaUrl ? createTimestamper(custody.tsaUrl) : undefined,
            onSealed: () => metrics.sealsWritten.inc(),
            onTimestampFailed: (seq, err) => {
              metrics.timestampFailures.inc();
              log.warn({ seq, err }, 'seal timestamp failed; retried at the next seal');
            },
          }),
      });
    },
    async close() {
      await scheduler?.close();
    },
  };
}
