import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  BACKFILL_CONCURRENCY,
  BACKFILL_QUEUE,
  createBackfillQueue,
  scheduleBackfills,
  type Backfill,
  type BackfillSummary,
  type Config,
  type RedisClient,
} from '@archiver/core';
import { createReconcileProcessor } from './jobs/reconcile.js';

export type RunningBackfillWorker = {
  /** (Re)declares the schedulers for these instances, removing the others' (a reload). */
  schedule(instances: Config['instances']): Promise<void>;
  close(): Promise<void>;
};

/**
 * Periodic reconciliation from the journals (docs/architecture.md §6): (re)declares one job scheduler
 * per configured instance (or removes them when BACKFILL_INTERVAL_MINUTES or
 * BACKFILL_WINDOW_MINUTES is 0) and processes the `backfill` queue one run at a time
 * (BACKFILL_CONCURRENCY).
 * `connection` must have `maxRetriesPerRequest: null` (a BullMQ Worker's requirement).
 */
export async function startBackfillWorker(deps: {
  connection: RedisClient;
  prefix: string;
  config: Pick<Config, 'instances' | 'backfill'>;
  backfill: Backfill;
  logger: Logger;
}): Promise<RunningBackfillWorker> {
  const log = deps.logger.child({ component: 'backfill-worker' });
  const queue = createBackfillQueue(deps.connection, deps.prefix);
  queue.on('error', (err) => log.warn({ err }, 'backfill queue error'));
  const schedule = async (instances: Config['instances']) => {
    const { scheduled, removed } = await scheduleBackfills(queue, instances, deps.config.backfill);
    log.info(
      { scheduled: scheduled.length, removed: removed.length, ...deps.config.backfill },
      scheduled.length > 0 ? 'backfill scheduled' : 'backfill off',
    );
  };
  await schedule(deps.config.instances);

  const worker = new Worker(BACKFILL_QUEUE, createReconcileProcessor(deps.backfill), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: BACKFILL_CONCURRENCY,
  });
  worker.on('error', (err) => log.error({ err }, 'backfill worker error'));
  worker.on('failed', (job: Job | undefined, err: Error) => {
    log.warn({ err, jobId: job?.id, attemptsMade: job?.attemptsMade }, 'backfill run failed');
  });
  worker.on('completed', (job: Job, summary: BackfillSummary) => {
    log.debug({ jobId: job.id, ...summary }, 'backfill run completed');
  });

  return {
    schedule,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
