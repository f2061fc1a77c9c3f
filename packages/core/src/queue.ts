import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import {
  ARCHIVE_JOB,
  ARCHIVE_JOB_OPTIONS,
  ARCHIVE_QUEUE,
  BACKFILL_QUEUE,
  CHECK_QUEUE,
  RECORD_JOB,
  RECORD_JOB_OPTIONS,
  RECORD_QUEUE,
  queueOptions,
  type ArchiveJobData,
  type BackfillRequest,
  type RecordJobData,
} from './job-catalog.js';
import { archiveJobId, storedJobData, type ArchiveJob } from './job.js';
import { recordJobId } from './record-job.js';
import type { BackfillSummary } from './backfill.js';
import { deadlineOf, markerTtlSeconds, priorityOf } from './deadline.js';
import type { RedisKeys } from './redis-keys.js';

export type ArchiveQueue = Queue<ArchiveJobData, unknown, string>;
export type RecordQueue = Queue<RecordJobData, unknown, string>;
export type BackfillQueue = Queue<BackfillRequest, BackfillSummary, string>;

/** The queues of the job catalog (job-catalog.ts), each typed with its job's data. */
export function createArchiveQueue(
  connection: RedisClient,
  prefix: string,
  telemetry?: Telemetry,
): ArchiveQueue {
  return new Queue(ARCHIVE_QUEUE, queueOptions(connection, prefix, { telemetry, capEvents: true }));
}

export function createRecordQueue(
  connection: RedisClient,
  prefix: string,
  telemetry?: Telemetry,
): RecordQueue {
  return new Queue(RECORD_QUEUE, queueOptions(connection, prefix, { telemetry, capEvents: true }));
}

export function createBackfillQueue(connection: RedisClient, prefix: string): BackfillQueue {
  return new Queue(BACKFILL_QUEUE, queueOptions(connection, prefix));
}

export function createCheckQueue(connection: RedisClient, prefix: string): Queue {
  return new Queue(CHECK_QUEUE, queueOptions(connection, prefix));
}

/** One job as `Queue.add`/`addBulk` take it, always with its deterministic id. */
export type JobRequest<Data> = {
  name: string;
  data: Data;
  opts: JobsOptions & { jobId: string };
};

export type ArchiveJobRequest = JobRequest<ArchiveJobData>;

export function archiveJobRequest(job: ArchiveJob, retentionDays: number): ArchiveJobRequest {
  const deadline = deadlineOf(job.timestamp, retentionDays);
  return {
    name: ARCHIVE_JOB,
    data: storedJobData(job),
    opts: {
      ...ARCHIVE_JOB_OPTIONS,
      jobId: archiveJobId(job.idInstance, job.chatId, job.idMessage),
      priority: priorityOf(deadline),
    },
  };
}

export function recordJobRequest(data: RecordJobData): JobRequest<RecordJobData> {
  return { name: RECORD_JOB, data, opts: { ...RECORD_JOB_OPTIONS, jobId: recordJobId(data) } };
}

// KEYS: deadlines, identities, then per job its BullMQ hash and its done marker. ARGV: per
// job its id, deadline and identity. A job neither queued nor finished gets its deadline and
// identity indexed; returns 1 for those.
const CLAIM_NEW_JOBS = `
local claimed = {}
for i = 1, #ARGV / 3 do
  local id, deadline, identity = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if redis.call('EXISTS', KEYS[2 * i + 1], KEYS[2 * i + 2]) == 0 then
    redis.call('ZADD', KEYS[1], deadline, id)
    redis.call('HSET', KEYS[2], id, identity)
    claimed[i] = 1
  else
    claimed[i] = 0
  end
end
return claimed
`;

/**
 * One round trip for a whole batch of distinct job ids: which are new (not queued, running,
 * failed, or finished within the retention window), with the deadline and message identity
 * of each new one indexed on the way. The index goes in before the job: a missing entry
 * would hide a job from the SLO and from the lost-job sweep, while an entry whose add then
 * failed is only looked at once it is older than the sweep's grace (lost-jobs.ts), by which
 * time the caller's redelivery has claimed it again.
 */
export async function claimNewJobIds(
  redis: RedisClient,
  keys: RedisKeys,
  jobs: Array<{ jobId: string; deadline: number; identity: string }>,
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const r = defineQueueScripts(redis);
  const jobKeys = jobs.flatMap(({ jobId }) => [keys.job(jobId), keys.done(jobId)]);
  const args = jobs.flatMap(({ jobId, deadline, identity }) => [jobId, String(deadline), identity]);
  const claimed = await r.archiverClaimNewJobs(
    2 + jobKeys.length,
    keys.deadlines,
    keys.identities,
    ...jobKeys,
    ...args,
  );
  return new Set(jobs.filter((_, i) => claimed[i] === 1).map(({ jobId }) => jobId));
}

// KEYS: done marker, deadlines, identities. ARGV: status, marker TTL (s), job id. One call
// instead of MULTI/SET/ZREM/HDEL/EXEC, on the worker's busiest path.
const MARK_DONE = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
`;

type QueueScriptsRedis = RedisClient & {
  archiverClaimNewJobs(numberOfKeys: number, ...args: string[]): Promise<number[]>;
  archiverMarkDone(
    done: string,
    deadlines: string,
    identities: string,
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
    redis.defineCommand('archiverMarkDone', { numberOfKeys: 3, lua: MARK_DONE });
  }
  return r;
}

/** Records that a job ended, so a later duplicate is recognised after the job is removed. */
export async function markDone(
  redis: RedisClient,
  keys: RedisKeys,
  jobId: string,
  status: string,
  deadlineMs: number,
) {
  const r = defineQueueScripts(redis);
  await r.archiverMarkDone(
    keys.done(jobId),
    keys.deadlines,
    keys.identities,
    status,
    Math.ceil(markerTtlSeconds(deadlineMs)),
    jobId,
  );
}
