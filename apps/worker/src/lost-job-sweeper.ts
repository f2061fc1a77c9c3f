import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '@archiver/core';
import { acquireSealLock } from '@archiver/custody';
import type { LostJobSweep, SweepSummary } from './lost-jobs.js';

export const SWEEP_QUEUE = 'lost-jobs';
export const SWEEP_SCHEDULER_ID = 'lost-job-sweep';
/** How often the deadline index is swept: a lost job is recorded within grace + this. */
export const SWEEP_INTERVAL_MS = 5 * 60_000;
/**
 * The lock only saves replicas from sweeping the same index at once; it is not what keeps
 * a job from being counted twice (each removal is fenced, lost-jobs.ts), so a sweep that
 * outlives it does no harm.
 */
const LOCK_TTL_MS = 10 * 60_000;

export type RunningSweeper = { close(): Promise<void> };

/**
 * The periodic lost-job sweep, as the custody sealer runs (packages/custody/src/schedule.ts):
 * one BullMQ job scheduler upserted by every worker replica (so there is one), a
 * single-concurrency worker per replica, and a Redis lock so that two runs never overlap.
 * `connection` must have `maxRetriesPerRequest: null` (a BullMQ Worker's requirement).
 */
export async function startLostJobSweeper(deps: {
  connection: RedisClient;
  prefix: string;
  sweep: LostJobSweep;
  logger: Logger;
  intervalMs?: number;
}): Promise<RunningSweeper> {
  const log = deps.logger.child({ component: 'lost-jobs' });
  const lockKey = `${deps.prefix}:${SWEEP_QUEUE}:lock`;
  const queue = new Queue(SWEEP_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  queue.on('error', (err) => log.warn({ err }, 'lost-job sweep queue error'));
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: deps.intervalMs ?? SWEEP_INTERVAL_MS },
    { name: 'sweep', opts: { removeOnComplete: 20, removeOnFail: 50 } },
  );
  const worker = new Worker(
    SWEEP_QUEUE,
    async (): Promise<SweepSummary | 'skipped'> => {
      const lock = await acquireSealLock(deps.connection, lockKey, LOCK_TTL_MS);
      if (!lock) return 'skipped';
      try {
        const summary = await deps.sweep();
        const found = summary.lost + summary.unidentified + summary.ended;
        (found > 0 ? log.warn.bind(log) : log.debug.bind(log))(summary, 'lost-job sweep done');
        return summary;
      } finally {
        await lock.release();
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.error({ err }, 'lost-job sweep worker error'));
  worker.on('failed', (_job, err) => log.error({ err }, 'lost-job sweep failed'));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
