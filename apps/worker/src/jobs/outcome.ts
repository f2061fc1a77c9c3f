import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  DEADLINE_SLACK_MS,
  lastChanceAt,
  markDone,
  sidecarSchema,
  type ArchiveJob,
  type ArchiveJobData,
  type FailureCode,
  type InstanceConfig,
  type Sidecar,
} from '@archiver/core';
import {
  GreenApiBadRequestError,
  GreenApiNoFileError,
  GreenApiRateLimitError,
  classifyError,
  isError,
} from '@archiver/greenapi';
import { HostNotAllowedError } from '../errors.js';
import type { ArchiveDeps } from './archive-file.js';
import { park } from './rate-slot.js';
import { failureRecord } from './records.js';

export type ArchiveResult = {
  status: 'archived' | 'duplicate';
  key: string;
  size?: number;
  sha256?: string;
};

/** How long an instance that cannot serve (401/403/466, not authorised) is left alone. */
export const INSTANCE_PAUSE_MS = 5 * 60_000;

/** One run of one job, as its steps see it. */
export type JobRun = {
  job: Job<ArchiveJobData>;
  token: string | undefined;
  /** The stored data with the facts read from its kept body. */
  data: ArchiveJob;
  message: Record<string, unknown>;
  instance: InstanceConfig | undefined;
  deadline: number;
  fileKey: string;
  sidecarKey: string;
  attempts: number;
  started: number;
  log: Logger;
};

/**
 * What a run came to. The steps return it; `settle` is the one place that turns it into
 * BullMQ's terms (a result, `UnrecoverableError`, `DelayedError`, or the error rethrown).
 */
export type Outcome =
  | { kind: 'archived'; key: string; size: number; sha256: string }
  /** Archived before: its record is kept. */
  | { kind: 'duplicate'; key: string; sha256?: string }
  | {
      kind: 'ended';
      status: 'permanent_failure' | 'expired';
      code: FailureCode;
      error: string;
      /** Where the failure record goes, when not the message's own folder. */
      sidecarKey?: string;
    }
  /** Back to `delayed` until then, no attempt spent (rate slot, 429, instance down). */
  | { kind: 'park'; until: number; reason?: string; slotAt?: number }
  /** A transient failure: BullMQ's backoff runs the job again. */
  | { kind: 'retry'; error: unknown; reason: string };

/** `value` when it is a record of an archived file. */
export function archivedSidecar(value: unknown): Sidecar | undefined {
  const parsed = sidecarSchema.safeParse(value);
  return parsed.success && parsed.data.status === 'archived' ? parsed.data : undefined;
}

/** The one map from an error of a run to its outcome. */
export async function outcomeOfError(
  deps: ArchiveDeps,
  run: JobRun,
  err: unknown,
): Promise<Outcome> {
  const error = err instanceof Error ? err.message : String(err);
  if (isError(err, HostNotAllowedError)) {
    return { kind: 'ended', status: 'permanent_failure', code: 'download_host_not_allowed', error };
  }
  switch (classifyError(err)) {
    case 'permanent':
      return { kind: 'ended', status: 'permanent_failure', code: permanentCode(err), error };
    case 'rate_limited': {
      deps.metrics.rateLimited.inc({ instance: run.data.idInstance });
      const retryAfter = isError(err, GreenApiRateLimitError) ? err.retryAfterMs : undefined;
      const blockedMs = await deps.limiter.penalize(
        run.data.idInstance,
        'downloadFile',
        retryAfter,
      );
      run.log.warn({ blockedMs }, 'Green-API answered 429; instance backed off');
      return { kind: 'park', until: Date.now() + blockedMs + Math.random() * 1000, reason: error };
    }
    case 'instance_unavailable':
      deps.metrics.instanceUnavailable.inc({ instance: run.data.idInstance });
      run.log.error({ err }, 'instance cannot serve downloads; jobs delayed');
      return { kind: 'park', until: Date.now() + INSTANCE_PAUSE_MS, reason: error };
    case 'retry':
      return { kind: 'retry', error: err, reason: error };
  }
}

/**
 * No delay takes a job past its deadline unattempted: a park wakes by the last chance
 * (lastChanceAt), and a job that failed or was refused with less than DEADLINE_SLACK_MS
 * left ends expired, its last error the reason. BullMQ's backoff is clipped the same way
 * (retryDelay).
 */
export function withinDeadline(run: JobRun, outcome: Outcome, now = Date.now()): Outcome {
  if (outcome.kind !== 'park' && outcome.kind !== 'retry') return outcome;
  if (run.deadline - now < DEADLINE_SLACK_MS) {
    const error = outcome.reason ?? run.data.lastError ?? 'deadline passed';
    return { kind: 'ended', status: 'expired', code: 'deadline_passed', error };
  }
  if (outcome.kind === 'retry') return outcome;
  return { ...outcome, until: Math.min(outcome.until, lastChanceAt(run.deadline, now)) };
}

/** Turns the outcome into BullMQ's terms, writing the failure record where one is due. */
export async function settle(
  deps: ArchiveDeps,
  run: JobRun,
  outcome: Outcome,
): Promise<ArchiveResult> {
  const { job, data, log } = run;
  const jobId = job.id ?? '';
  const seconds = () => (performance.now() - run.started) / 1000;
  switch (outcome.kind) {
    case 'archived':
      await markDone(deps.redis, deps.keys, jobId, 'archived', run.deadline);
      deps.metrics.jobs.inc({ outcome: 'archived' });
      deps.metrics.bytesArchived.inc(outcome.size);
      deps.metrics.jobDuration.observe({ outcome: 'archived' }, seconds());
      log.info({ key: outcome.key, size: outcome.size }, 'archived');
      return { status: 'archived', key: outcome.key, size: outcome.size, sha256: outcome.sha256 };
    case 'duplicate':
      await markDone(deps.redis, deps.keys, jobId, 'archived', run.deadline);
      deps.metrics.jobs.inc({ outcome: 'duplicate' });
      log.info({ key: outcome.key }, 'already archived; its record is kept');
      return { status: 'duplicate', key: outcome.key, sha256: outcome.sha256 };
    case 'park':
      return park(job, run.token, outcome);
    case 'retry':
      deps.metrics.jobDuration.observe({ outcome: 'error' }, seconds());
      await job.updateData({ ...job.data, slotAt: undefined, lastError: outcome.reason });
      log.warn({ err: outcome.error }, 'archive attempt failed; will retry');
      throw outcome.error;
    case 'ended': {
      const { status, code, error } = outcome;
      // Write-once: a record already there (archived, or an earlier failure) is kept.
      const put = await deps.store.putRecord(
        outcome.sidecarKey ?? run.sidecarKey,
        failureRecord({
          data,
          message: run.message,
          attempts: run.attempts,
          status,
          code,
          error,
          intendedKey: run.fileKey,
        }),
      );
      const kept = put.written ? undefined : archivedSidecar(put.existing);
      if (kept) {
        return settle(deps, run, {
          kind: 'duplicate',
          key: kept.key ?? run.fileKey,
          sha256: kept.sha256,
        });
      }
      if (!put.written) log.info({ key: run.sidecarKey }, 'an earlier failure record is kept');
      await markDone(deps.redis, deps.keys, jobId, status, run.deadline);
      deps.metrics.jobs.inc({ outcome: status });
      deps.metrics.failures.inc({ outcome: status, reason: code });
      deps.metrics.jobDuration.observe({ outcome: status }, seconds());
      log.warn({ status, code, error }, 'archive job ended without a file');
      throw new UnrecoverableError(`${status}: ${code}: ${error}`);
    }
  }
}

function permanentCode(err: unknown): FailureCode {
  if (isError(err, GreenApiNoFileError)) return 'no_file';
  if (isError(err, GreenApiBadRequestError)) return 'bad_request';
  return 'bad_request';
}
