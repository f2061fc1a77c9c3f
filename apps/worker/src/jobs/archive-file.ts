import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  downloadRpsFor,
  effectiveDeadline,
  markDone,
  objectKeys,
  readArchiveJob,
  sidecarSchema,
  type ArchiveJobData,
  type ArchiverKeys,
  type Config,
  type FailureCode,
  type InstanceConfig,
  type Metrics,
  type RateLimiter,
  type RedisClient,
  type Sidecar,
} from '@archiver/core';
import {
  GreenApiBadRequestError,
  GreenApiNoFileError,
  GreenApiRateLimitError,
  classifyError,
  isError,
  type GreenApiClient,
} from '@archiver/greenapi';
import { openDownload } from '../download.js';
import type { HostGuard } from '../download-hosts.js';
import { HostNotAllowedError } from '../errors.js';
import type { ObjectStore } from '../storage/s3.js';
import { archivedRecord, failureRecord } from './records.js';
import { delayJob, takeDownloadSlot } from './rate-slot.js';

export type ArchiveResult = {
  status: 'archived' | 'duplicate';
  key: string;
  size?: number;
  sha256?: string;
};

export type ArchiveDeps = {
  config: Pick<Config, 'retentionDays' | 'defaultDownloadRps' | 's3'>;
  instances: Map<string, InstanceConfig>;
  clientFor: (instance: InstanceConfig, kind: ArchiveJobData['kind']) => GreenApiClient;
  store: ObjectStore;
  limiter: RateLimiter;
  redis: RedisClient;
  keys: ArchiverKeys;
  guard: HostGuard;
  metrics: Metrics;
  logger: Logger;
  timeouts?: { headersMs: number; idleMs: number };
};

/** The Green-API client's per-request timeout; an in-flight request counts at most this long. */
const GREEN_API_TIMEOUT_MS = 30_000;
/** How long an instance that cannot serve (401/403/466, not authorised) is left alone. */
const INSTANCE_PAUSE_MS = 5 * 60_000;

/**
 * One archive job: downloadFile → stream the bytes → S3 with SHA-256 → sidecar. Transient
 * failures are rethrown for BullMQ's backoff (the only retry loop); rate limits and
 * instance-wide problems delay without spending an attempt; permanent ones and the
 * deadline end the job with a failure record.
 */
export function createArchiveProcessor(deps: ArchiveDeps) {
  return async function archiveFile(
    job: Job<ArchiveJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<ArchiveResult> {
    const parsed = readArchiveJob(job.data);
    if (!parsed.ok) {
      deps.metrics.jobs.inc({ outcome: 'permanent_failure' });
      deps.metrics.failures.inc({ outcome: 'permanent_failure', reason: 'invalid_job' });
      throw new UnrecoverableError(`permanent_failure: invalid_job: ${parsed.error}`);
    }
    const { data, message } = parsed;
    const log = deps.logger.child({
      jobId: job.id,
      attempt: job.attemptsMade + 1,
      idInstance: data.idInstance,
    });
    const instance = deps.instances.get(data.idInstance);
    const retentionDays = instance?.retentionDays ?? deps.config.retentionDays;
    const deadline = effectiveDeadline(data, retentionDays);
    const prefix = deps.config.s3?.prefix ?? '';
    const { fileKey, sidecarKey } = objectKeys({ prefix, ...data });
    const started = performance.now();
    const attempts = job.attemptsMade + 1;
    const jobId = job.id ?? '';

    /** An archived record already there (the write was refused): the job is a duplicate. */
    async function keptArchived(existing: unknown): Promise<ArchiveResult | undefined> {
      const kept = archivedSidecar(existing);
      if (!kept) return undefined;
      await markDone(deps.redis, deps.keys, jobId, 'archived', deadline);
      deps.metrics.jobs.inc({ outcome: 'duplicate' });
      log.info({ key: kept.key }, 'already archived; its record is kept');
      return { status: 'duplicate', key: kept.key ?? fileKey, sha256: kept.sha256 };
    }

    async function end(
      status: 'permanent_failure' | 'expired',
      code: FailureCode,
      error: string,
    ): Promise<ArchiveResult> {
      // Write-once: a record already there (archived, or an earlier failure) is kept.
      const put = await deps.store.putRecord(
        sidecarKey,
        failureRecord({ data, message, attempts, status, code, error, intendedKey: fileKey }),
      );
      if (!put.written) {
        const duplicate = await keptArchived(put.existing);
        if (duplicate) return duplicate;
        log.info({ key: sidecarKey }, 'an earlier failure record is kept');
      }
      await markDone(deps.redis, deps.keys, jobId, status, deadline);
      deps.metrics.jobs.inc({ outcome: status });
      deps.metrics.failures.inc({ outcome: status, reason: code });
      deps.metrics.jobDuration.observe({ outcome: status }, (performance.now() - started) / 1000);
      log.warn({ status, code, error }, 'archive job ended without a file');
      throw new UnrecoverableError(`${status}: ${code}: ${error}`);
    }

    // A replay, a journal find, or a re-run after a crash between upload and completion may
    // meet a file already archived: the sidecar is the durable proof, so it is never fetched
    // twice. A webhook's first attempt skips the read (one S3 request less per file): the job
    // id and the done marker already stop duplicates within the retention window.
    const mayBeArchived =
      job.attemptsStarted > 1 || data.source === 'replay' || data.source === 'journal';
    const existing = mayBeArchived ? await deps.store.readSidecar(sidecarKey) : undefined;
    if (
      existing?.status === 'archived' &&
      existing.key &&
      (await deps.store.exists(existing.key))
    ) {
      await markDone(deps.redis, deps.keys, jobId, 'archived', deadline);
      deps.metrics.jobs.inc({ outcome: 'duplicate' });
      return { status: 'duplicate', key: existing.key };
    }
    if (data.tooLarge) {
      return end(
        'permanent_failure',
        'too_large',
        'Green-API could not fetch this file over 100 MB ({{SWE002}})',
      );
    }
    if (Date.now() > deadline) {
      return end(
        'expired',
        'deadline_passed',
        data.lastError ?? 'deadline passed before an attempt',
      );
    }
    if (!instance) {
      return delayJob(
        job,
        token,
        Math.min(deadline, Date.now() + INSTANCE_PAUSE_MS),
        `instance ${data.idInstance} is not configured`,
      );
    }

    try {
      const rps = downloadRpsFor(instance, data.kind, deps.config.defaultDownloadRps);
      const admission = await takeDownloadSlot({
        job,
        idInstance: data.idInstance,
        token,
        limiter: deps.limiter,
        rps,
        holdMs: GREEN_API_TIMEOUT_MS,
        signal,
      });
      const client = deps.clientFor(instance, data.kind);
      const { downloadUrl } = await deps.limiter.admitted(
        data.idInstance,
        'downloadFile',
        rps,
        () => client.downloadFile({ chatId: data.chatId, idMessage: data.idMessage }, { signal }),
        { holdMs: GREEN_API_TIMEOUT_MS, signal, admission },
      );
      if (job.attemptsStarted > 1) await deps.store.abortStaleUploads(fileKey);
      const download = await openDownload(downloadUrl, {
        guard: deps.guard,
        signal,
        headersTimeoutMs: deps.timeouts?.headersMs ?? 30_000,
        idleTimeoutMs: deps.timeouts?.idleMs ?? 60_000,
      });
      const contentType = data.mimeType ?? download.contentType ?? 'application/octet-stream';
      await deps.store.putFile({
        key: fileKey,
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
      const { sha256, size } = download.digest();
      // Replaces a failure record (a retried file that now arrives), never an archived one.
      const put = await deps.store.putRecord(
        sidecarKey,
        archivedRecord({ data, message, attempts, key: fileKey, sha256, size, contentType }),
        { mayReplace: (existing) => !archivedSidecar(existing) },
      );
      if (!put.written) {
        const kept = archivedSidecar(put.existing);
        if (kept?.sha256 !== sha256) {
          log.error({ key: fileKey }, 'downloaded again: its bytes differ from the kept record');
        }
        const duplicate = await keptArchived(put.existing);
        if (duplicate) return duplicate;
      }
      await markDone(deps.redis, deps.keys, jobId, 'archived', deadline);
      deps.metrics.jobs.inc({ outcome: 'archived' });
      deps.metrics.bytesArchived.inc(size);
      deps.metrics.jobDuration.observe(
        { outcome: 'archived' },
        (performance.now() - started) / 1000,
      );
      log.info({ key: fileKey, size }, 'archived');
      return { status: 'archived', key: fileKey, size, sha256 };
    } catch (err) {
      if (err instanceof Error && err.name === 'DelayedError') throw err;
      return handleFailure(err);
    }

    async function handleFailure(err: unknown): Promise<ArchiveResult> {
      const message = err instanceof Error ? err.message : String(err);
      deps.metrics.jobDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      if (isError(err, HostNotAllowedError)) {
        return end('permanent_failure', 'download_host_not_allowed', message);
      }
      switch (classifyError(err)) {
        case 'permanent':
          return end('permanent_failure', permanentCode(err), message);
        case 'rate_limited': {
          deps.metrics.rateLimited.inc({ instance: data.idInstance });
          const retryAfter = isError(err, GreenApiRateLimitError) ? err.retryAfterMs : undefined;
          const blockedMs = await deps.limiter.penalize(
            data.idInstance,
            'downloadFile',
            retryAfter,
          );
          log.warn({ blockedMs }, 'Green-API answered 429; instance backed off');
          return delayJob(job, token, Date.now() + blockedMs + Math.random() * 1000, message);
        }
        case 'instance_unavailable':
          deps.metrics.instanceUnavailable.inc({ instance: data.idInstance });
          log.error({ err }, 'instance cannot serve downloads; jobs delayed');
          if (Date.now() + INSTANCE_PAUSE_MS > deadline) {
            return end('expired', 'deadline_passed', message);
          }
          return delayJob(job, token, Date.now() + INSTANCE_PAUSE_MS, message);
        case 'retry':
          if (Date.now() >= deadline) return end('expired', 'deadline_passed', message);
          await job.updateData({ ...job.data, slotAt: undefined, lastError: message });
          log.warn({ err }, 'archive attempt failed; will retry');
          throw err;
      }
    }
  };
}

/** `value` when it is a record of an archived file. */
function archivedSidecar(value: unknown): Sidecar | undefined {
  const parsed = sidecarSchema.safeParse(value);
  return parsed.success && parsed.data.status === 'archived' ? parsed.data : undefined;
}

function permanentCode(err: unknown): FailureCode {
  if (isError(err, GreenApiNoFileError)) return 'no_file';
  if (isError(err, GreenApiBadRequestError)) return 'bad_request';
  return 'bad_request';
}
