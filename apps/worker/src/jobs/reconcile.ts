import { UnrecoverableError, type Job } from 'bullmq';
import {
  BackfillUnknownInstanceError,
  readBackfillRequest,
  type Backfill,
  type BackfillSummary,
} from '@archiver/core';
import { isError } from '@archiver/greenapi';

/**
 * One reconciliation run of the `backfill` queue (docs/architecture.md §6): validates the
 * request and runs it, reporting progress on the job. An invalid request or an instance
 * that is not configured can never succeed, so those fail at once; anything else is
 * rethrown for BullMQ's retries.
 */
export function createReconcileProcessor(backfill: Backfill) {
  return async function reconcile(
    job: Job<unknown, BackfillSummary, string>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<BackfillSummary> {
    const parsed = readBackfillRequest(job.data);
    if (!parsed.ok) throw new UnrecoverableError(parsed.error);
    try {
      return await backfill.run(parsed.data, {
        signal,
        onProgress: (p) => void job.updateProgress(p).catch(() => undefined),
      });
    } catch (err) {
      if (isError(err, BackfillUnknownInstanceError)) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}
