import type { RedisClient } from './redis.js';
import { deadlineOf } from './deadline.js';
import {
  archiveJobRequest,
  claimNewJobIds,
  type ArchiveJobRequest,
  type ArchiveQueue,
} from './queue.js';
import { type RedisKeys } from './redis-keys.js';
import type { ArchiveJob } from './job.js';
import { encodeJobIdentity, jobIdentityOf } from './lost-jobs.js';
import { currentTraceMetadata } from './telemetry.js';

export type WriteResult = { outcome: 'accepted' | 'duplicate'; jobId: string };

type Pending = {
  request: ArchiveJobRequest;
  deadline: number;
  /** The message identity the lost-job sweep records a vanished job by (lost-jobs.ts). */
  identity: string;
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
};

/**
 * Batches written at once. More than one keeps Redis busy while a batch's replies wait for
 * the event loop (measured: one at a time left the receiver half idle under load).
 */
const MAX_BATCHES_IN_FLIGHT = 4;

/**
 * Stores archive jobs with group commit: the jobs of concurrent callers are written together
 * on the next turn of the event loop, in two round trips: one script that finds the new ones
 * and indexes their deadlines and identities, then one `addBulk`. Each caller's promise settles only once
 * its job is in Redis (or known already), so "200 only after the job is stored" holds. A
 * failed batch rejects every caller in it; their retries are deduplicated by job id.
 *
 * A write for a job id this writer is still writing waits for that write and is reported a
 * duplicate: two concurrent batches would otherwise both find the id new and both report it
 * `accepted` (BullMQ would still store it once). Across processes that can still happen.
 */
export function createJobWriter(deps: {
  redis: RedisClient;
  queue: ArchiveQueue;
  keys: RedisKeys;
  retentionDays: (job: ArchiveJob) => number;
}) {
  let pending: Pending[] = [];
  /** Job ids queued or being written, by the promise of their first write. */
  const writing = new Map<string, Promise<WriteResult>>();
  let inFlight = 0;
  let scheduled = false;

  function schedule() {
    if (scheduled || inFlight >= MAX_BATCHES_IN_FLIGHT) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush() {
    if (pending.length === 0) return;
    inFlight += 1;
    const batch = pending;
    pending = [];
    try {
      await writeBatch(batch);
    } finally {
      inFlight -= 1;
      if (pending.length > 0) schedule();
    }
  }

  async function writeBatch(batch: Pending[]) {
    try {
      const fresh = await claimNewJobIds(
        deps.redis,
        deps.keys,
        batch.map((p) => ({
          jobId: p.request.opts.jobId,
          deadline: p.deadline,
          identity: p.identity,
        })),
      );
      if (fresh.size > 0) {
        await deps.queue.addBulk(
          batch.filter((p) => fresh.has(p.request.opts.jobId)).map((p) => p.request),
        );
      }
      for (const p of batch) {
        const jobId = p.request.opts.jobId;
        p.resolve({ outcome: fresh.has(jobId) ? 'accepted' : 'duplicate', jobId });
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  return {
    write(data: ArchiveJob): Promise<WriteResult> {
      const retentionDays = deps.retentionDays(data);
      const request = archiveJobRequest(data, retentionDays);
      // Captured now, while the caller's (webhook's) trace is active; the batch runs later.
      const metadata = currentTraceMetadata();
      if (metadata) request.opts.telemetry = { metadata };
      const jobId = request.opts.jobId;
      const earlier = writing.get(jobId);
      // Fails as the earlier write fails: the caller's retry is deduplicated like any other.
      if (earlier) return earlier.then(() => ({ outcome: 'duplicate', jobId }));

      const written = new Promise<WriteResult>((resolve, reject) => {
        pending.push({
          request,
          deadline: deadlineOf(data.timestamp, retentionDays),
          identity: encodeJobIdentity(jobIdentityOf(data, Date.now())),
          resolve,
          reject,
        });
        schedule();
      });
      writing.set(jobId, written);
      const forget = () => writing.delete(jobId);
      written.then(forget, forget);
      return written;
    },
  };
}

export type JobWriter = ReturnType<typeof createJobWriter>;
