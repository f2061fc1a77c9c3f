import { Queue, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { SealRun } from './sealer.js';

export const SEAL_QUEUE = 'custody';
export const SEAL_SCHEDULER_ID = 'custody-seal';

export type SealLogger = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

/**
 * The periodic seal: one BullMQ job scheduler shared by every worker replica (upserted by
 * each, so there is one), and a single-concurrency worker per replica; BullMQ hands each
 * job to one of them. It runs every half interval so an entry waits at most about half an
 * interval plus one seal for its seal, within `SEAL_INTERVAL_MINUTES`. A job whose worker
 * was killed comes back after its lock; sealPending takes over what it left.
 */
export async function startSealScheduler(deps: {
  connection: Redis | Cluster;
  prefix: string;
  intervalMs: number;
  seal: () => Promise<SealRun>;
  logger: SealLogger;
}) {
  const queue = new Queue(SEAL_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  queue.on('error', (err) => deps.logger.warn({ err }, 'custody queue error'));
  await queue.upsertJobScheduler(
    SEAL_SCHEDULER_ID,
    { every: Math.max(1000, Math.floor(deps.intervalMs / 2)) },
    { name: 'seal', opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
  const worker = new Worker(
    SEAL_QUEUE,
    async (job: Job) => {
      const run = await deps.seal();
      if (run.status === 'done' && (run.sealed.length > 0 || run.adopted.length > 0)) {
        deps.logger.info(
          {
            jobId: job.id,
            seals: run.sealed.map((s) => s.seq),
            entries: run.sealed.reduce((n, s) => n + s.count, 0),
            adopted: run.adopted,
          },
          'custody sealed',
        );
      }
      return run.status;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on('error', (err) => deps.logger.error({ err }, 'custody worker error'));
  worker.on('failed', (_job, err) => deps.logger.error({ err }, 'custody seal failed'));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** Removes the periodic seal (custody turned off); nothing happens when there is none. */
export async function removeSealScheduler(
  connection: Redis | Cluster,
  prefix: string,
): Promise<void> {
  const queue = new Queue(SEAL_QUEUE, { connection, prefix });
  try {
    await queue.removeJobScheduler(SEAL_SCHEDULER_ID);
  } finally {
    await queue.close();
  }
}
