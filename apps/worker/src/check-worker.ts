import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  CHECK_CONCURRENCY,
  CHECK_QUEUE,
  createCheckQueue,
  scheduleInstanceChecks,
  type RedisClient,
} from '@archiver/core';
import { createCheckProcessor, type CheckProcessorDeps } from './jobs/check-instance.js';

export type RunningCheckWorker = {
  /** (Re)declares one scheduler per instance given, removing the others. */
  schedule(ids: readonly string[]): Promise<{ scheduled: string[]; removed: string[] }>;
  close(): Promise<void>;
};

/**
 * The scheduled form of `archiver doctor` (docs/operations.md, ArchiverInstanceNotReady): one
 * job scheduler per instance every INSTANCE_CHECK_INTERVAL_MINUTES, spread over the
 * interval, processed here a few at a time. `connection`: `maxRetriesPerRequest: null`.
 */
export async function startCheckWorker(deps: {
  connection: RedisClient;
  prefix: string;
  intervalMinutes: number;
  ids: readonly string[];
  checks: Omit<CheckProcessorDeps, 'logger'>;
  logger: Logger;
}): Promise<RunningCheckWorker> {
  const log = deps.logger.child({ component: 'check-worker' });
  const queue = createCheckQueue(deps.connection, deps.prefix);
  queue.on('error', (err) => log.warn({ err }, 'check queue error'));
  const schedule = async (ids: readonly string[]) => {
    const result = await scheduleInstanceChecks(queue, ids, deps.intervalMinutes);
    log.info(
      {
        scheduled: result.scheduled.length,
        removed: result.removed.length,
        intervalMinutes: deps.intervalMinutes,
      },
      result.scheduled.length > 0 ? 'instance checks scheduled' : 'instance checks off',
    );
    return result;
  };
  await schedule(deps.ids);
  const worker = new Worker(
    CHECK_QUEUE,
    createCheckProcessor({ ...deps.checks, logger: deps.logger }),
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: CHECK_CONCURRENCY,
    },
  );
  worker.on('error', (err) => log.error({ err }, 'check worker error'));
  worker.on('failed', (job: Job | undefined, err: Error) => {
    log.warn({ err, jobId: job?.id }, 'instance check failed to run');
  });
  return {
    schedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
