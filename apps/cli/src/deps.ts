import type { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import {
  redisKeys,
  configSecrets,
  createArchiveQueue,
  createLogger,
  createRecordQueue,
  createRedis,
  createS3Client,
  type ArchiveQueue,
  type Config,
  type RecordQueue,
  type S3Config,
  type RedisClient,
} from '@archiver/core';

/** What every command runs on; tests build it around their own Redis, S3 and streams. */
export type CliDeps = {
  config: Config;
  /** The `archive` queue: file jobs. */
  queue: ArchiveQueue;
  /** The `records` queue: messages without a file and events (retry-failed, backfill). */
  recordQueue: RecordQueue;
  redis: RedisClient;
  s3: S3Client;
  /** Results: tables, CSV, JSON. */
  out: Writable;
  /** Progress, warnings and errors, so `out` can be piped. */
  err: Writable;
  /** Only the backfill logs (core's reconciliation logs through pino); default: silent. */
  logger?: Logger;
};

/** The S3 part of the configuration; loadConfig(…, 'cli') refuses to start without it. */
export function s3Of(config: Config): S3Config {
  if (!config.s3) throw new Error('S3_BUCKET is not configured');
  return config.s3;
}

export function keysOf(config: Config) {
  return redisKeys(config.queuePrefix);
}

/** Raised when Redis cannot be reached at start: the run never began. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/**
 * Real connections for a CLI run. Redis fails fast when unreachable (an operator wants an
 * answer, not a hang) but tolerates slow commands: a status over 100k failed jobs takes a while.
 */
export async function createDeps(
  config: Config,
  io: { out: Writable; err: Writable },
): Promise<CliDeps> {
  const redis = createRedis(config, 'producer', {
    enableOfflineQueue: true,
    commandTimeout: 60_000,
    lazyConnect: true,
  });
  let lastError: Error | undefined;
  // ioredis reports connection trouble as events; the failed command below says it once.
  redis.on('error', (err: Error) => (lastError = err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const cause = lastError ?? err;
    throw new UnreachableError(
      `cannot reach Redis at ${redactUrl(config.redisUrl)}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
  const logger = createLogger({
    level: config.logLevel,
    name: 'archiver-cli',
    secrets: configSecrets(config),
    destination: io.err,
  });
  return {
    config,
    redis,
    queue: createArchiveQueue(redis, config.queuePrefix),
    recordQueue: createRecordQueue(redis, config.queuePrefix),
    s3: createS3Client(s3Of(config)),
    logger,
    ...io,
  };
}

export async function closeDeps(deps: CliDeps): Promise<void> {
  await deps.queue.close();
  await deps.recordQueue.close();
  await deps.redis.quit().catch(() => deps.redis.disconnect());
  deps.s3.destroy();
}

/** The URL without its password, for error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
