import {
  effectiveDeadline,
  indexJob,
  jobIdentityOf,
  readArchiveJob,
  unindexJob,
  type ArchiveJobData,
} from '@archiver/core';
import { keysOf, type CliDeps } from './deps.js';

/**
 * Re-queues one failed archive job; returns why not when it is not (or no longer) failed.
 * It gets `graceUntil`, so a job past its deadline gets a real attempt, and is put back in
 * the deadlines index (the SLO gauge's source) at its effective deadline before it can run.
 */
export async function requeueArchiveJob(
  deps: Pick<CliDeps, 'config' | 'queue' | 'redis'>,
  jobId: string,
  graceUntil: number,
  retention: (job: { idInstance: string }) => number,
): Promise<string | undefined> {
  const keys = keysOf(deps.config);
  const job = await deps.queue.getJob(jobId);
  if (!job) return 'job no longer exists';
  const state = await job.getState();
  if (state !== 'failed') return `job is ${state} now`;
  // Spread as stored: a job whose data fails the schema is re-queued as it is (the worker
  // records it as invalid_job again), with the grace added.
  // A fresh wait for an instance not configured: the operator may just have added it back.
  const { unknownSince: _waited, ...kept } = job.data;
  const data: ArchiveJobData = { ...kept, graceUntil };
  const read = readArchiveJob(data);
  const deadline = read.ok ? effectiveDeadline(read.data, retention(read.data)) : graceUntil;
  // Before the job can run: a worker that finishes it removes the entry again. With its
  // identity, so the lost-job sweep can record it should it vanish before it ends.
  const identity = read.ok ? jobIdentityOf(read.data, Date.now()) : undefined;
  await indexJob(deps.redis, keys, jobId, deadline, identity);
  await job.updateData(data);
  try {
    // Fresh backoff within the grace window: the old count would start at the cap.
    await job.retry('failed', { resetAttemptsMade: true });
  } catch (err) {
    await unindexJob(deps.redis, keys, jobId);
    return notRequeued(err);
  }
  return undefined;
}

/**
 * Re-queues one failed record job as it is stored. A record has no deadline, so no grace
 * and no deadlines entry (record jobs are never in that index); its data is not touched,
 * since a job an older worker could not read is exactly what the current worker reads. The
 * record write is write-once: a job whose record is already in S3 finds it there and
 * changes nothing.
 */
export async function requeueRecordJob(
  deps: Pick<CliDeps, 'recordQueue'>,
  jobId: string,
): Promise<string | undefined> {
  const job = await deps.recordQueue.getJob(jobId);
  if (!job) return 'job no longer exists';
  const state = await job.getState();
  if (state !== 'failed') return `job is ${state} now`;
  try {
    // The capped backoff starts again, as it would for a new job: the job waits in Redis
    // until written, for however many attempts that takes.
    await job.retry('failed', { resetAttemptsMade: true });
  } catch (err) {
    return notRequeued(err);
  }
  return undefined;
}

function notRequeued(err: unknown): string {
  return `not re-queued: ${err instanceof Error ? err.message : String(err)}`;
}
