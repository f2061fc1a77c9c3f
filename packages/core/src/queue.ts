import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import { luaScript } from '@archiver/lua-script';
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
  type StoredRecordJobData,
} from './job-catalog.js';
import { archiveJobId, storedJobData, type ArchiveJob } from './job.js';
import { recordJobId, storedRecordData } from './record-job.js';
import type { BackfillSummary } from './backfill.js';
import { deadlineOf, markerTtlSeconds, priorityOf } from './deadline.js';
import type { RedisKeys } from './redis-keys.js';

export type ArchiveQueue = Queue<ArchiveJobData, unknown, string>;
export type RecordQueue = Queue<StoredRecordJobData, unknown, string>;
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

export function recordJobRequest(data: RecordJobData): JobRequest<StoredRecordJobData> {
  return {
    name: RECORD_JOB,
    data: storedRecordData(data),
    opts: { ...RECORD_JOB_OPTIONS, jobId: recordJobId(data) },
  };
}

// A job neither queued nor finished (no BullMQ hash, no done marker) gets its deadline and
// identity indexed; returns 1 for those, 0 for the others, in the items' order.
const CLAIM_NEW_JOBS = luaScript({
  name: 'archiverClaimNewJobs',
  keys: ['deadlines', 'identities'],
  args: {},
  each: {
    keys: ['jobHash', 'doneMarker'],
    args: { jobId: 'string', deadline: 'string', identity: 'string' },
  },
  body: `
local claimed = {}
for i = 1, itemCount do
  if redis.call('EXISTS', jobHash(i), doneMarker(i)) == 0 then
    redis.call('ZADD', deadlines, deadline(i), jobId(i))
    redis.call('HSET', identities, jobId(i), identity(i))
    claimed[i] = 1
  else
    claimed[i] = 0
  end
end
return claimed
`,
  reply: (raw) => raw as number[],
});

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
  const claimed = await CLAIM_NEW_JOBS.run(redis, {
    keys: { deadlines: keys.deadlines, identities: keys.identities },
    args: {},
    items: jobs.map(({ jobId, deadline, identity }) => ({
      jobHash: keys.job(jobId),
      doneMarker: keys.done(jobId),
      jobId,
      deadline: String(deadline),
      identity,
    })),
  });
  return new Set(jobs.filter((_, i) => claimed[i] === 1).map(({ jobId }) => jobId));
}

// A job ended: its done marker, and out of the deadline index. One call instead of
// MULTI/SET/ZREM/HDEL/EXEC, on the worker's busiest path.
const MARK_DONE = luaScript({
  name: 'archiverMarkDone',
  keys: ['doneMarker', 'deadlines', 'identities'],
  args: { status: 'string', ttlSeconds: 'number', jobId: 'string' },
  body: `
redis.call('SET', doneMarker, status, 'EX', ttlSeconds)
redis.call('ZREM', deadlines, jobId)
redis.call('HDEL', identities, jobId)
return 1
`,
  reply: Number,
});

/**
 * Defines the scripts above on `redis` (once). `createRedis` calls it for every connection it
 * makes: with auto-pipelining, a script defined while a pipeline is open is missing from it.
 */
export function defineQueueScripts(redis: RedisClient): void {
  CLAIM_NEW_JOBS.define(redis);
  MARK_DONE.define(redis);
}

/** Records that a job ended, so a later duplicate is recognised after the job is removed. */
export async function markDone(
  redis: RedisClient,
  keys: RedisKeys,
  jobId: string,
  status: string,
  deadlineMs: number,
) {
  await MARK_DONE.run(redis, {
    keys: { doneMarker: keys.done(jobId), deadlines: keys.deadlines, identities: keys.identities },
    args: { status, ttlSeconds: Math.ceil(markerTtlSeconds(deadlineMs)), jobId },
  });
}
