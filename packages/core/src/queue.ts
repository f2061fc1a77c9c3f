import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import {
  ARCHIVE_JOB,
  archiveJobId,
  storedJobData,
  type ArchiveJob,
  type ArchiveJobData,
} from './job.js';
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
/**
 * BullMQ's event stream, capped (approximately) at this many entries instead of BullMQ's
 * 10,000. Nothing here reads it (metrics and the dashboard read the job sets); a short tail
 * is enough for someone watching with QueueEvents, and every entry costs Redis memory.
 */
const EVENTS_MAX_LEN = 1000;
/** Retries are bounded by the deadline, not by a count (see the worker's backoff). */
const ATTEMPTS = 100_000;

export type ArchiveQueue = Queue<ArchiveJobData, unknown, string>;

export function createArchiveQueue(
  connection: RedisClient,
  prefix: string,
  telemetry?: Telemetry,
): ArchiveQueue {
  return new Queue<ArchiveJobData, unknown, string>(ARCHIVE_QUEUE, {
    connection,
    prefix,
    telemetry,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
}

export type ArchiveJobRequest = {
  name: string;
  data: ArchiveJobData;
  opts: JobsOptions & { jobId: string };
};

export function archiveJobRequest(job: ArchiveJob, retentionDays: number): ArchiveJobRequest {
  const deadline = deadlineOf(job.timestamp, retentionDays);
  return {
    name: ARCHIVE_JOB,
    data: storedJobData(job),
    opts: {
      jobId: archiveJobId(job.idInstance, job.chatId, job.idMessage),
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

// KEYS: deadlines, then per job its BullMQ hash and its done marker. ARGV: per job its id and
// deadline. A job neither queued nor finished gets its deadline indexed; returns 1 for those.
const CLAIM_NEW_JOBS = `
local claimed = {}
for i = 1, #ARGV / 2 do
  local id, deadline = ARGV[2 * i - 1], ARGV[2 * i]
  if redis.call('EXISTS', KEYS[2 * i], KEYS[2 * i + 1]) == 0 then
    redis.call('ZADD', KEYS[1], deadline, id)
    claimed[i] = 1
  else
    claimed[i] = 0
  end
end
return claimed
`;

/**
 * One round trip for a whole batch of distinct job ids: which are new (not queued, running,
 * failed, or finished within the retention window), with the deadline of each new one
 * indexed on the way. The index goes in before the job: a stale entry (its add then failed)
 * is cleaned by the gauge, a missing one would hide a job from the SLO.
 */
export async function claimNewJobIds(
  redis: RedisClient,
  keys: ArchiverKeys,
  jobs: Array<{ jobId: string; deadline: number }>,
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const r = defineQueueScripts(redis);
  const jobKeys = jobs.flatMap(({ jobId }) => [keys.job(jobId), keys.done(jobId)]);
  const args = jobs.flatMap(({ jobId, deadline }) => [jobId, String(deadline)]);
  const claimed = await r.archiverClaimNewJobs(
    1 + jobKeys.length,
    keys.deadlines,
    ...jobKeys,
    ...args,
  );
  return new Set(jobs.filter((_, i) => claimed[i] === 1).map(({ jobId }) => jobId));
}

// KEYS: done marker, deadlines. ARGV: status, marker TTL (s), job id. One call instead of
// MULTI/SET/ZREM/EXEC: four commands per finished job, on the worker's busiest path.
const MARK_DONE = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
`;

type QueueScriptsRedis = RedisClient & {
  archiverClaimNewJobs(numberOfKeys: number, ...args: string[]): Promise<number[]>;
  archiverMarkDone(
    done: string,
    deadlines: string,
    status: string,
    ttl: number,
    jobId: string,
  ): Promise<number>;
};

/**
 * Defines the scripts above on `redis` (once). `createRedis` calls it for every connection it
 * makes: with auto-pipelining, a script defined while a pipeline is open is missing from it.
 */
export function defineQueueScripts(redis: RedisClient): QueueScriptsRedis {
  const r = redis as QueueScriptsRedis;
  if (!('archiverMarkDone' in r)) {
    redis.defineCommand('archiverClaimNewJobs', { lua: CLAIM_NEW_JOBS });
    redis.defineCommand('archiverMarkDone', { numberOfKeys: 2, lua: MARK_DONE });
  }
  return r;
}

/** Records that a job ended, so a later duplicate is recognised after the job is removed. */
export async function markDone(
  redis: RedisClient,
  keys: ArchiverKeys,
  jobId: string,
  status: string,
  deadlineMs: number,
) {
  const r = defineQueueScripts(redis);
  await r.archiverMarkDone(
    keys.done(jobId),
    keys.deadlines,
    status,
    Math.ceil(markerTtlSeconds(deadlineMs)),
    jobId,
  );
}
