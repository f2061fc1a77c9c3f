import { ARCHIVE_QUEUE } from './job-catalog.js';

/** Redis keys the archiver keeps beside BullMQ's, under the same prefix. */
export function redisKeys(prefix: string) {
  const base = `${prefix}:${ARCHIVE_QUEUE}`;
  return {
    /** BullMQ's own hash for a job: exists while the job is in any state. */
    job: (jobId: string) => `${base}:${jobId}`,
    /** Set when a job ends (archived or recorded); outlives the job's removal. */
    done: (jobId: string) => `${base}:done:${jobId}`,
    /** Sorted set jobId → deadline (ms) of every unfinished job: the SLO gauge's source. */
    deadlines: `${base}:deadlines`,
    /**
     * Hash jobId → the message identity of every job in `deadlines`, so the lost-job sweep
     * can record a job whose own hash is gone (lost-jobs.ts).
     */
    identities: `${base}:identities`,
    quarantine: `${prefix}:quarantine`,
    quarantineBodies: `${prefix}:quarantine:bodies`,
    /** Total bytes of the quarantine's entries, for QUARANTINE_MAX_BYTES. */
    quarantineBytes: `${prefix}:quarantine:bytes`,
    rate: (idInstance: string, method: string) => `${prefix}:rate:${idInstance}:${method}`,
    penalty: (idInstance: string, method: string) => `${prefix}:penalty:${idInstance}:${method}`,
    /** Hash idInstance → ms of the latest webhook or notification seen (last-seen.ts). */
    lastSeen: `${prefix}:instances:last-seen`,
    /** Hash idInstance → JSON of its latest readiness check (instance-check.ts). */
    ready: `${prefix}:instances:ready`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
