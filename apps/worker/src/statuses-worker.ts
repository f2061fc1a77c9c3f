import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  STATUSES_CONCURRENCY,
  STATUSES_QUEUE,
  createStatusesQueue,
  scheduleStatuses,
  type Config,
  type RedisClient,
  type StatusReader,
  type StatusesSummary,
} from '@archiver/core';
import { createReadStatusesProcessor } from './jobs/read-statuses.js';

export type RunningStatusesWorker = {
  schedule(instances: Config['instances']): Promise<void>;
  close(): Promise<void>;
};

/**
 * Reads statuses on a schedule (docs/conversation.md §7): (re)declares one BullMQ job
 * scheduler per instance, or removes them when STATUSES_INTERVAL_MINUTES or
 * STATUSES_WINDOW_MINUTES is 0, and runs the `statuses` queue one read at a time. One job
 * per interval across all replicas: BullMQ's scheduler, not an election of our own.
 */
export async function startStatusesWorker(deps: {
  connection: RedisClient;
  prefix: string;
  config: Pick<Config, 'instances' | 'statuses'>;
  reader: StatusReader;
  logger: Logger;
}): Promise<RunningStatusesWorker> {
  const log = deps.logger.child({ component: 'statuses-worker' });
  const queue = createStatusesQueue(deps.connection, deps.prefix);
  queue.on('error', (err) => log.warn({ err }, 'statuses queue error'));
  const schedule = async (instances: Config['instances']) => {
    const { scheduled, removed } = await scheduleStatuses(queue, instances, deps.config.statuses);
    log.info(
      { scheduled: scheduled.length, removed: removed.length, ...deps.config.statuses },
      scheduled.length > 0 ? 'statuses scheduled' : 'statuses off',
    );
  };
  await schedule(deps.config.instances);
  const worker = new Worker(STATUSES_QUEUE, createReadStatusesProcessor(deps.reader), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: STATUSES_CONCURRENCY,
  });
  worker.on('error', (err) => log.error({ err }, 'statuses worker error'));
  worker.on('failed', (job: Job | undefined, err: Error) => {
    log.warn({ err, jobId: job?.id, attemptsMade: job?.attemptsMade }, 'statuses read failed');
  });
  worker.on('completed', (job: Job, summary: StatusesSummary) => {
    log.debug({ jobId: job.id, ...summary }, 'statuses read completed');
  });
  return {
    /** (Re)declares the schedulers for these instances, removing the others' (a reload). */
    schedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
