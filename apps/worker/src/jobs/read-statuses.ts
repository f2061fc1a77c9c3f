import { UnrecoverableError, type Job } from 'bullmq';
import {
  StatusesUnknownInstanceError,
  readStatusesRequest,
  type StatusReader,
  type StatusesSummary,
} from '@archiver/core';
import { isError } from '@archiver/greenapi';

/**
 * One read of an instance's status journals, a job of the `statuses` queue
 * (docs/conversation.md §7). An invalid request or an instance that is not configured can
 * never succeed, so those fail at once; anything else is rethrown for BullMQ's retries.
 */
export function createReadStatusesProcessor(reader: StatusReader) {
  return async function readStatuses(
    job: Job<unknown, StatusesSummary, string>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<StatusesSummary> {
    const parsed = readStatusesRequest(job.data);
    if (!parsed.ok) throw new UnrecoverableError(parsed.error);
    try {
      return await reader.run(parsed.data, { signal });
    } catch (err) {
      if (isError(err, StatusesUnknownInstanceError)) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}
