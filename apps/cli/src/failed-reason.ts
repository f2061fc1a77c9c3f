/**
 * What a failed job's `failedReason` says. The archive worker writes
 * `permanent_failure: <code>: <error>` or `expired: deadline_passed: <last error>`; the
 * record worker, whose only permanent failure is data it cannot read, writes
 * `invalid_job: <error>`. Anything else (a stalled job, a crash outside the processor) is
 * `other` / `unknown`.
 */
export type FailedReason = {
  outcome: 'permanent_failure' | 'expired' | 'other';
  code: string;
  error: string;
};

const PATTERN = /^(permanent_failure|expired): ([a-z][a-z0-9_]*)(?:: ?([\s\S]*))?$/;
// Only this code: a bare `word: text` is too common in error messages to read as a code.
const RECORD_PATTERN = /^invalid_job(?:: ?([\s\S]*))?$/;

export function parseFailedReason(text: string | null | undefined): FailedReason {
  const record = RECORD_PATTERN.exec(text ?? '');
  if (record) return { outcome: 'permanent_failure', code: 'invalid_job', error: record[1] ?? '' };
  const match = PATTERN.exec(text ?? '');
  if (!match) return { outcome: 'other', code: 'unknown', error: text ?? '' };
  return {
    outcome: match[1] as 'permanent_failure' | 'expired',
    code: match[2] ?? 'unknown',
    error: match[3] ?? '',
  };
}

/** `--reason` names a code (`no_file`) or a whole outcome (`expired`, `permanent_failure`). */
export function reasonMatches(reason: FailedReason, filter: string | undefined): boolean {
  return filter === undefined || filter === reason.code || filter === reason.outcome;
}

/**
 * Archive job ids are `${idInstance}-${hash}` (core job.ts archiveJobId); record job ids
 * are the same for a message and `${idInstance}-e${digest}` for an event (recordJobId).
 */
export function instanceOfJobId(jobId: string): string | undefined {
  return /^(\d+)-/.exec(jobId)?.[1];
}
