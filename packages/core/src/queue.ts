import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import { ARCHIVE_JOB, archiveJobId, type ArchiveJobData } from './job.js';
import { deadlineOf, markerTtlSeconds, priorityOf } from './deadline.js';

export const ARCHIVE_QUEUE = 'archive';

/**
 * How long finished archive jobs stay. Set on the Worker, not on each job, where they would
 * cost every queued job's memory. Completed: a week, for the dashboard (the dedupe marker
 * outlives them). Failed: the work list of `retry-failed`; their sidecars are the durable
 * record.
 */
export const KEEP_FINISHED = {
  removeOnComplete: { age: 7 * 86_400, count: 50_000 },
  removeOnFail: { age: 90 * 86_400, count: 100_000 },
} as const;
/** Retries are bounded by the deadline, not by a count (see the worker's backoff). */
const ATTEMPTS = 100_000;

export type ArchiveQueue = Queue<ArchiveJobData, unknown, string>;

export function createArchiveQueue(
  connection: Redis,
  prefix: string,
  telemetry?: Telemetry,
): ArchiveQueue {
  return new Queue<ArchiveJobData, unknown, string>(ARCHIVE_QUEUE, {
    connection,
    prefix,
    telemetry,
  });
}

export type ArchiveJobRequest = {
  name: string;
  data: ArchiveJobData;
  opts: JobsOptions & { jobId: string };
};

export function archiveJobRequest(data: ArchiveJobData, retentionDays: number): ArchiveJobRequest {
  const deadline = deadlineOf(data.timestamp, retentionDays);
  return {
    name: ARCHIVE_JOB,
    data,
    opts: {
      jobId: archiveJobId(data.idInstance, data.chatId, data.idMessage),
      priority: priorityOf(deadline),
      attempts: ATTEMPTS,
      backoff: { type: 'deadline' },
    },
  };
}

/** Redis keys the archiver keeps beside BullMQ's, under the same prefix. */
export function archiverKeys(prefix: string) {
  const base = `${prefix}:${ARCHIVE_QUEUE}`;
  return {
    /** BullMQ's own hash for a job: exists while the job is in any state. */
    job: (jobId: string) => `${base}:${jobId}`,
    /** Set when a job ends (archived or recorded); outlives the job's removal. */
    done: (jobId: string) => `${base}:done:${jobId}`,
    /** Sorted set jobId → deadline (ms) of every unfinished job: the SLO gauge's source. */
    deadlines: `${base}:deadlines`,
    quarantine: `${prefix}:quarantine`,
    quarantineBodies: `${prefix}:quarantine:bodies`,
    rate: (idInstance: string, method: string) => `${prefix}:rate:${idInstance}:${method}`,
    penalty: (idInstance: string, method: string) => `${prefix}:penalty:${idInstance}:${method}`,
  };
}

export type ArchiverKeys = ReturnType<typeof archiverKeys>;

/**
 * Which of these job ids are already known: queued, running, failed or finished within the
 * retention window. One pipelined round trip for a whole batch.
 */
export async function knownJobIds(
  redis: Redis,
  keys: ArchiverKeys,
  jobIds: string[],
): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const pipeline = redis.pipeline();
  for (const id of jobIds) pipeline.exists(keys.job(id), keys.done(id));
  const results = (await pipeline.exec()) ?? [];
  const known = new Set<string>();
  results.forEach(([err, count], index) => {
    if (err) throw err;
    if (Number(count) > 0) known.add(jobIds[index] as string);
  });
  return known;
}

/** Records that a job ended, so a later duplicate is recognised after the job is removed. */
export async function markDone(
  redis: Redis,
  keys: ArchiverKeys,
  jobId: string,
  status: string,
  deadlineMs: number,
) {
  await redis
    .multi()
    .set(keys.done(jobId), status, 'EX', Math.ceil(markerTtlSeconds(deadlineMs)))
    .zrem(keys.deadlines, jobId)
    .exec();
}
