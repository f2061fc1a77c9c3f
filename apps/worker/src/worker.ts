import { Worker, type Job, type Telemetry } from 'bullmq';
import type { Logger } from 'pino';
import {
  ARCHIVE_QUEUE,
  KEEP_FINISHED,
  jobWorkerOptions,
  readArchiveJob,
  effectiveDeadline,
  retentionDaysOf,
  retryDelay,
  type ArchiveJobData,
  type Config,
  type InstanceConfig,
  type RedisClient,
} from '@archiver/core';
import type { ArchiveResult, createArchiveProcessor } from './jobs/archive-file.js';

/**
 * The BullMQ worker around the archive processor. The backoff strategy is the one retry
 * policy: exponential with jitter between RETRY_BASE_DELAY_MS and RETRY_MAX_DELAY_MS, never
 * past the job's deadline.
 */
export function createArchiveWorker(deps: {
  connection: RedisClient;
  config: Pick<
    Config,
    'queuePrefix' | 'workerConcurrency' | 'retry' | 'retentionDays' | 'lockDurationMs'
  >;
  instances: Pick<Map<string, InstanceConfig>, 'get'>;
  processor: ReturnType<typeof createArchiveProcessor>;
  logger: Logger;
  autorun?: boolean;
  telemetry?: Telemetry;
}): Worker<ArchiveJobData, ArchiveResult> {
  const { config } = deps;
  const worker = new Worker<ArchiveJobData, ArchiveResult>(ARCHIVE_QUEUE, deps.processor, {
    ...jobWorkerOptions(deps.connection, config, deps),
    ...KEEP_FINISHED,
    settings: {
      backoffStrategy: (
        attemptsMade: number,
        _type?: string,
        _err?: Error,
        job?: { data: unknown },
      ) => {
        const parsed = readArchiveJob(job?.data);
        if (!parsed.ok) return config.retry.baseDelayMs;
        const retentionDays = retentionDaysOf(
          deps.instances.get(parsed.data.idInstance),
          config.retentionDays,
        );
        return retryDelay(attemptsMade, {
          ...config.retry,
          deadlineMs: effectiveDeadline(parsed.data, retentionDays),
        });
      },
    },
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));
  worker.on('failed', (job: Job<ArchiveJobData> | undefined, err: Error) => {
    if (job && job.finishedOn) {
      deps.logger.debug({ jobId: job.id, reason: err.message }, 'job failed for good');
    }
  });
  return worker;
}
