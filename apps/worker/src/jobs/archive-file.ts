import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  downloadRpsFor,
  effectiveDeadline,
  implausibleTimestamp,
  objectKeys,
  readArchiveJob,
  retentionDaysOf,
  type ArchiveJobData,
  type RedisKeys,
  type Config,
  type InstanceConfig,
  type Metrics,
  type RateLimiter,
  type RedisClient,
} from '@archiver/core';
import { classifyError, type GreenApiClient } from '@archiver/greenapi';
import { openDownload } from '../download.js';
import type { HostGuard } from '../download-hosts.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  INSTANCE_PAUSE_MS,
  archivedSidecar,
  outcomeOfError,
  settle,
  withinDeadline,
  type ArchiveResult,
  type JobRun,
  type Outcome,
} from './outcome.js';
import { archivedRecord } from './records.js';
import { takeDownloadSlot } from './rate-slot.js';

export type { ArchiveResult } from './outcome.js';

export type ArchiveDeps = {
  config: Pick<Config, 'retentionDays' | 'defaultDownloadRps' | 's3'>;
  instances: Pick<Map<string, InstanceConfig>, 'get'>;
  clientFor: (instance: InstanceConfig, kind: ArchiveJobData['kind']) => GreenApiClient;
  store: ObjectStore;
  limiter: RateLimiter;
  redis: RedisClient;
  keys: RedisKeys;
  guard: HostGuard;
  metrics: Metrics;
  logger: Logger;
  timeouts?: { headersMs: number; idleMs: number };
  /** UNKNOWN_INSTANCE_GRACE_MS, shortened by tests. */
  unknownInstanceGraceMs?: number;
};

/** The Green-API client's per-request timeout; an in-flight request counts at most this long. */
const GREEN_API_TIMEOUT_MS = 30_000;

/**
 * One archive job, in named steps: load → guard → take a slot → download → store →
 * record. Each step returns an Outcome or passes on; errors map to one in one place
 * (outcomeOfError), the deadline bounds every delay (withinDeadline), and `settle` turns
 * the outcome into BullMQ's terms: transient failures rethrown for BullMQ's backoff (the
 * only retry loop), rate limits and instance-wide problems parked without spending an
 * attempt, permanent ones and the deadline ended with a failure record.
 */
export function createArchiveProcessor(deps: ArchiveDeps) {
  return async function archiveFile(
    job: Job<ArchiveJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<ArchiveResult> {
    const run = load(deps, job, token);
    const outcome = (await guard(deps, run)) ?? (await attempt(deps, run, signal));
    return settle(deps, run, withinDeadline(run, outcome));
  };
}

/** Reads the job's data; a job that cannot be read ends at once (there is no key to record at). */
function load(deps: ArchiveDeps, job: Job<ArchiveJobData>, token: string | undefined): JobRun {
  const parsed = readArchiveJob(job.data);
  if (!parsed.ok) {
    deps.metrics.jobs.inc({ outcome: 'permanent_failure' });
    deps.metrics.failures.inc({ outcome: 'permanent_failure', reason: 'invalid_job' });
    throw new UnrecoverableError(`permanent_failure: invalid_job: ${parsed.error}`);
  }
  const { data, message } = parsed;
  const instance = deps.instances.get(data.idInstance);
  const retentionDays = retentionDaysOf(instance, deps.config.retentionDays);
  const { fileKey, sidecarKey } = objectKeys({ prefix: deps.config.s3?.prefix ?? '', ...data });
  return {
    job,
    token,
    data,
    message,
    instance,
    deadline: effectiveDeadline(data, retentionDays),
    fileKey,
    sidecarKey,
    attempts: job.attemptsMade + 1,
    started: performance.now(),
    log: deps.logger.child({
      jobId: job.id,
      attempt: job.attemptsMade + 1,
      idInstance: data.idInstance,
    }),
  };
}

/** What ends or delays a job before any request to Green-API. */
async function guard(deps: ArchiveDeps, run: JobRun): Promise<Outcome | undefined> {
  const { job, data } = run;
  const implausible = implausibleTimestamp(data);
  if (implausible) {
    // Its own date folder would lie (or read NaN): the record goes under the day it came.
    const received = objectKeys({
      prefix: deps.config.s3?.prefix ?? '',
      ...data,
      timestamp: Math.floor(data.receivedAt / 1000),
    });
    return {
      kind: 'ended',
      status: 'permanent_failure',
      code: 'implausible_timestamp',
      error: implausible,
      sidecarKey: received.sidecarKey,
    };
  }
  // A replay, a journal find, or a re-run after a crash between upload and completion may
  // meet a file already archived: the record is the durable proof, so it is never fetched
  // twice. A webhook's first attempt skips the read (one S3 request less per file): the job
  // id and the done marker stop duplicates, and the record's write-once write stops the rest.
  const mayBeArchived =
    job.attemptsStarted > 1 ||
    data.source === 'replay' ||
    data.source === 'journal' ||
    data.source === 'statuses';
  if (mayBeArchived) {
    const existing = archivedSidecar(await deps.store.readSidecar(run.sidecarKey));
    if (existing?.key && (await deps.store.exists(existing.key))) {
      return { kind: 'duplicate', key: existing.key, sha256: existing.sha256 };
    }
  }
  if (data.tooLarge) {
    const error = 'Green-API could not fetch this file over 100 MB ({{SWE002}})';
    return { kind: 'ended', status: 'permanent_failure', code: 'too_large', error };
  }
  if (Date.now() > run.deadline) {
    const error = data.lastError ?? 'deadline passed before an attempt';
    return { kind: 'ended', status: 'expired', code: 'deadline_passed', error };
  }
  if (!run.instance) return unknownInstance(deps, run);
  return undefined;
}

/** How long a job waits for a worker that knows its instance before it ends recorded. */
export const UNKNOWN_INSTANCE_GRACE_MS = 30 * 60_000;

/**
 * A job of an instance this worker does not know: without its token downloadFile cannot be
 * called. A removed instance's queued jobs do not come here in the process that saw the
 * removal (the registry's `lookup` keeps removed instances until restart); this is a worker
 * started after the removal, or one that has not loaded a new instance yet (a rollout, a
 * ConfigMap on its way). So the job waits, no attempt spent, for the configuration to catch
 * up, from the first time a worker met it for UNKNOWN_INSTANCE_GRACE_MS; then it ends as
 * `permanent_failure` `instance_not_configured` with its failure record, never retried for
 * ever. `archiver retry-failed` runs it again once the instance is back.
 */
async function unknownInstance(deps: ArchiveDeps, run: JobRun): Promise<Outcome> {
  const now = Date.now();
  const since = run.data.unknownSince ?? now;
  const graceMs = deps.unknownInstanceGraceMs ?? UNKNOWN_INSTANCE_GRACE_MS;
  const reason = `instance ${run.data.idInstance} is not configured on this worker`;
  if (now - since >= graceMs) {
    const minutes = Math.round((now - since) / 60_000);
    const error = `${reason}: no token to call downloadFile with (waited ${minutes} min for the configuration); add the instance back and run archiver retry-failed`;
    return { kind: 'ended', status: 'permanent_failure', code: 'instance_not_configured', error };
  }
  if (run.data.unknownSince === undefined) {
    await run.job.updateData({ ...run.job.data, unknownSince: since });
    // Once per job, not at every wake-up.
    run.log.warn({ waitingUntil: new Date(since + graceMs).toISOString() }, reason);
  }
  return { kind: 'park', until: Math.min(since + graceMs, now + INSTANCE_PAUSE_MS), reason };
}

/** Take a slot → downloadFile → stream the bytes to S3 → record; any error becomes an outcome. */
async function attempt(deps: ArchiveDeps, run: JobRun, signal?: AbortSignal): Promise<Outcome> {
  const { data, job } = run;
  const instance = run.instance as InstanceConfig;
  try {
    const rps = downloadRpsFor(instance, data.kind, deps.config.defaultDownloadRps);
    const slot = await takeDownloadSlot({
      job,
      idInstance: data.idInstance,
      limiter: deps.limiter,
      rps,
      holdMs: GREEN_API_TIMEOUT_MS,
      deadline: run.deadline,
      signal,
    });
    if (slot.kind === 'park') return slot;
    const client = deps.clientFor(instance, data.kind);
    const chatId = data.status?.chatId ?? data.chatId;
    const downloadUrl = await deps.limiter
      .admitted(
        data.idInstance,
        'downloadFile',
        rps,
        () => client.downloadFile({ chatId, idMessage: data.idMessage }, { signal }),
        { holdMs: GREEN_API_TIMEOUT_MS, signal, admission: slot.admission },
      )
      .then(
        (answer) => answer.downloadUrl,
        (err: unknown) => statusLink(run, err),
      );
    const stored = await store(deps, run, downloadUrl, signal);
    return await record(deps, run, stored);
  } catch (err) {
    return outcomeOfError(deps, run, err);
  }
}

/**
 * Whether downloadFile knows a status's file is not documented (UNCONFIRMED): when it answers
 * that it has none, a status's own link (as listed, no query string) is the file. Every
 * other error, and every message that is not a status, goes on as the error it is.
 */
function statusLink(run: JobRun, err: unknown): string {
  const link = run.data.status?.link;
  if (link === undefined || classifyError(err) !== 'permanent') throw err;
  run.log.debug('downloadFile has no file for this status: using its own link');
  return link;
}

type Stored = { key: string; sha256: string; size: number; contentType: string };

/** Streams the file from `downloadUrl` to its key, hashing it on the way. */
async function store(
  deps: ArchiveDeps,
  run: JobRun,
  downloadUrl: string,
  signal?: AbortSignal,
): Promise<Stored> {
  const { data } = run;
  if (run.job.attemptsStarted > 1) await deps.store.abortStaleUploads(run.fileKey);
  const download = await openDownload(downloadUrl, {
    guard: deps.guard,
    signal,
    headersTimeoutMs: deps.timeouts?.headersMs ?? 30_000,
    idleTimeoutMs: deps.timeouts?.idleMs ?? 60_000,
  });
  const contentType = data.mimeType ?? download.contentType ?? 'application/octet-stream';
  await deps.store.putFile({
    key: run.fileKey,
    body: download.body,
    contentType,
    signal,
    digest: download.digest,
    metadata: {
      'id-instance': data.idInstance,
      'chat-id': encodeURIComponent(data.chatId),
      'id-message': encodeURIComponent(data.idMessage),
      kind: data.kind,
    },
  });
  return { key: run.fileKey, contentType, ...download.digest() };
}

/** Writes the archived record: it replaces a failure record, never an archived one. */
async function record(deps: ArchiveDeps, run: JobRun, stored: Stored): Promise<Outcome> {
  const put = await deps.store.putRecord(
    run.sidecarKey,
    archivedRecord({ data: run.data, message: run.message, attempts: run.attempts, ...stored }),
    { mayReplace: (existing) => !archivedSidecar(existing) },
  );
  if (put.written) return { kind: 'archived', ...stored };
  const kept = archivedSidecar(put.existing);
  if (kept?.sha256 !== stored.sha256) {
    run.log.error({ key: stored.key }, 'downloaded again: its bytes differ from the kept record');
  }
  return { kind: 'duplicate', key: kept?.key ?? stored.key, sha256: kept?.sha256 };
}
