import { UnrecoverableError, type Job } from 'bullmq';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import {
  readRecordJob,
  recordJobId,
  recordKey,
  type Metrics,
  type RecordJobData,
  type StoredRecordJobData,
} from '@archiver/core';
import { eventRecord, messageRecord } from './records.js';

export type RecordResult = { status: 'recorded' | 'duplicate'; key: string };

/**
 * One record job: the body as received, its record's fields beside it, written once to its
 * deterministic key. A record already there (a duplicate, a journal find, a replay) is left
 * as it is. S3 errors are rethrown for BullMQ's backoff; a job that does not parse can never
 * succeed and ends at once.
 */
export function createRecordProcessor(deps: {
  prefix: string;
  /** The store's write-once record write (it enters the record in the custody log). */
  putRecordOnce: (key: string, record: object) => Promise<{ written: boolean }>;
  /** Told of every message recorded or found recorded (the backfill's recorded index). */
  onRecorded?: (data: RecordJobData, jobId: string) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
}) {
  const records = new Counter({
    name: 'archiver_records_total',
    help: 'Conversation records (messages without a file, events), by record and outcome',
    labelNames: ['record', 'outcome'] as const,
    registers: [deps.metrics.registry],
  });

  return async function recordEvent(job: Job<StoredRecordJobData>): Promise<RecordResult> {
    const parsed = readRecordJob(job.data);
    if (!parsed.ok) {
      records.inc({ record: 'unknown', outcome: 'invalid_job' });
      throw new UnrecoverableError(`invalid_job: ${parsed.error}`);
    }
    const { data, message } = parsed;
    const key = recordKey(deps.prefix, data);
    const attempts = job.attemptsMade + 1;
    const record =
      data.record === 'message'
        ? messageRecord({ data, message, attempts })
        : eventRecord({ data, message, attempts });
    const { written } = await deps.putRecordOnce(key, record);
    records.inc({ record: data.record, outcome: written ? 'recorded' : 'duplicate' });
    if (data.record === 'message' && deps.onRecorded) {
      await deps.onRecorded(data, job.id ?? recordJobId(data));
    }
    if (!written) deps.logger.debug({ key }, 'record already written');
    return { status: written ? 'recorded' : 'duplicate', key };
  };
}
