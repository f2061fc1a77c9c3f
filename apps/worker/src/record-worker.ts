import { Worker, type Telemetry } from 'bullmq';
import type { Logger } from 'pino';
import {
  KEEP_FAILED,
  RECORD_QUEUE,
  jobWorkerOptions,
  retryDelay,
  type Config,
  type RecordJobData,
  type RedisClient,
} from '@archiver/core';
import type { RecordResult, createRecordProcessor } from './jobs/record-event.js';

/**
 * The BullMQ worker of the record queue, beside the archive worker in the same process. A
 * record is one S3 PUT, so it runs at the archive worker's concurrency without a rate budget;
 * S3 errors back off exponentially with jitter up to RETRY_MAX_DELAY_MS, with no deadline
 * (the body waits in Redis until it is written).
 */
export function createRecordWorker(deps: {
  connection: RedisClient;
  config: Pick<Config, 'queuePrefix' | 'workerConcurrency' | 'retry' | 'lockDurationMs'>;
  processor: ReturnType<typeof createRecordProcessor>;
  logger: Logger;
  autorun?: boolean;
  telemetry?: Telemetry;
}): Worker<RecordJobData, RecordResult> {
  const { config } = deps;
  const worker = new Worker<RecordJobData, RecordResult>(RECORD_QUEUE, deps.processor, {
    ...jobWorkerOptions(deps.connection, config, deps),
    // Completed jobs are removed by their own option (RECORD_JOB_OPTIONS); failed ones
    // (invalid data) stay for inspection as the archive queue's do.
    ...KEEP_FAILED,
    settings: {
      backoffStrategy: (attemptsMade: number) =>
        retryDelay(attemptsMade, { ...config.retry, deadlineMs: Number.POSITIVE_INFINITY }),
    },
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'record worker error'));
  return worker;
}
