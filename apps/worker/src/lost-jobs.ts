import type { Logger } from 'pino';
import {
  findGoneJobs,
  forgetGoneJob,
  idInstanceOfJob,
  implausibleTimestamp,
  markerTtlSeconds,
  noteFirstSeen,
  objectKeys,
  sidecarSchema,
  type RedisKeys,
  type GoneJob,
  type InstanceConfig,
  type JobIdentity,
  type Metrics,
  type RedisClient,
} from '@archiver/core';
import type { ObjectStore } from './storage/object-store.js';
import { lostJobRecord } from './jobs/records.js';

/**
 * How old a claim must be before its missing job counts as lost. The receiver indexes a job
 * a moment before it adds it (packages/core/src/queue.ts), and a batch whose add failed was
 * answered 503: Green-API redelivers within a minute and claims the id again. Ten minutes
 * covers both with room; a job truly lost waits that much longer to be recorded.
 */
export const LOST_JOB_GRACE_MS = 10 * 60_000;

export type SweepSummary = {
  /** Entries whose job is there: waiting, delayed, active or failed. */
  inFlight: number;
  /** Entries of jobs that ended (a done marker): removed. */
  stale: number;
  /** Gone, but claimed too recently to tell (LOST_JOB_GRACE_MS). */
  recent: number;
  /** Recorded as job_lost and counted. */
  lost: number;
  /** Gone without an identity (claimed by an older release): counted, no record possible. */
  unidentified: number;
  /** Gone, but their record was already in S3 (the job ended just before it vanished). */
  ended: number;
  /** Changed while being looked at (claimed again, or taken by another sweeper): left. */
  changed: number;
};

export type LostJobSweepDeps = {
  redis: RedisClient;
  keys: RedisKeys;
  store: Pick<ObjectStore, 'putRecord'>;
  /** S3_PREFIX: where the records go. */
  s3Prefix: string;
  instances: Map<string, InstanceConfig>;
  metrics: Pick<Metrics, 'jobsLost' | 'failures'>;
  logger: Logger;
  graceMs?: number;
  now?: () => number;
};

/**
 * One sweep over the deadline index (docs/storage.md §6): every entry whose job is gone
 * without an end is recorded in S3 as `permanent_failure: job_lost` (write-once: a record
 * already there wins, so a job that ended just before it vanished is never called lost),
 * counted in `archiver_jobs_lost_total{instance}` and removed. The removal is fenced
 * (forgetGoneJob): an id claimed again meanwhile, or taken by another sweeper, is left.
 */
export function createLostJobSweep(deps: LostJobSweepDeps) {
  const graceMs = deps.graceMs ?? LOST_JOB_GRACE_MS;
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'lost-jobs' });
  const instanceLabel = (idInstance: string) =>
    deps.instances.has(idInstance) ? idInstance : 'unknown';

  async function unidentified(gone: GoneJob, summary: SweepSummary) {
    if (gone.firstSeen === undefined && gone.stored === undefined) {
      await noteFirstSeen(deps.redis, deps.keys, gone.jobId, now());
      summary.recent += 1;
      return;
    }
    if (gone.firstSeen !== undefined && now() - gone.firstSeen < graceMs) {
      summary.recent += 1;
      return;
    }
    if (!(await forgetGoneJob(deps.redis, deps.keys, gone))) {
      summary.changed += 1;
      return;
    }
    // The job id starts with its instance (archiveJobId); nothing else is known of it.
    const instance = instanceLabel(idInstanceOfJob(gone.jobId) ?? '');
    deps.metrics.jobsLost.inc({ instance });
    deps.metrics.failures.inc({ outcome: 'permanent_failure', reason: 'job_lost' });
    summary.unidentified += 1;
    log.error(
      { jobId: gone.jobId, deadline: new Date(gone.deadline).toISOString() },
      'job lost without an end, and without the identity to record it: backfill from the journals',
    );
  }

  async function identified(gone: GoneJob, identity: JobIdentity, summary: SweepSummary) {
    if (now() - identity.claimedAt < graceMs) {
      summary.recent += 1;
      return;
    }
    const { fileKey, sidecarKey } = keysOf(deps.s3Prefix, identity);
    const put = await deps.store.putRecord(sidecarKey, lostJobRecord(identity, fileKey));
    const existing = put.written ? undefined : sidecarSchema.safeParse(put.existing);
    if (existing?.success && existing.data.reason?.code !== 'job_lost') {
      // The record already in S3 wins: the job ended, and vanished before it marked so.
      const done = { status: existing.data.status, ttlSeconds: markerTtlSeconds(gone.deadline) };
      const forgot = await forgetGoneJob(deps.redis, deps.keys, gone, done);
      summary[forgot ? 'ended' : 'changed'] += 1;
      if (forgot) log.info({ jobId: gone.jobId, key: sidecarKey }, 'gone job had ended');
      return;
    }
    // No done marker: a redelivery or a journal find may still archive the file, and its
    // archived record then replaces this one.
    if (!(await forgetGoneJob(deps.redis, deps.keys, gone))) {
      summary.changed += 1;
      return;
    }
    deps.metrics.jobsLost.inc({ instance: instanceLabel(identity.idInstance) });
    deps.metrics.failures.inc({ outcome: 'permanent_failure', reason: 'job_lost' });
    summary.lost += 1;
    log.error(
      { jobId: gone.jobId, idInstance: identity.idInstance, key: sidecarKey },
      'job lost without an end; recorded as job_lost',
    );
  }

  return async function sweepLostJobs(): Promise<SweepSummary> {
    const summary: SweepSummary = {
      inFlight: 0,
      stale: 0,
      recent: 0,
      lost: 0,
      unidentified: 0,
      ended: 0,
      changed: 0,
    };
    for await (const gone of findGoneJobs(deps.redis, deps.keys, summary)) {
      if (gone.identity) await identified(gone, gone.identity, summary);
      else await unidentified(gone, summary);
    }
    return summary;
  };
}

export type LostJobSweep = ReturnType<typeof createLostJobSweep>;

/** The keys the job would have written, as the archive job computes them (archive-file.ts). */
function keysOf(prefix: string, identity: JobIdentity) {
  // A message time that makes no sense is recorded under the day the job was claimed, as
  // the archive job records it under the day it came.
  const implausible = implausibleTimestamp({
    timestamp: identity.timestamp,
    receivedAt: identity.claimedAt,
  });
  const timestamp = implausible ? Math.floor(identity.claimedAt / 1000) : identity.timestamp;
  return objectKeys({ prefix, ...identity, timestamp });
}
