import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GreenApiClient, JournalItem } from '@archiver/greenapi';
import { carriesFile } from './backfill.js';
import { deadlineOf, retentionDaysOf } from './deadline.js';
import type { InstanceConfig } from './instances.js';
import { archiveJobId, jobFromStatus } from './job.js';
import {
  STATUSES_JOB,
  STATUSES_JOB_OPTIONS,
  STATUSES_QUEUE,
  queueOptions,
  statusesRequestSchema,
  type StatusesRequest,
} from './job-catalog.js';
import type { JobWriter } from './job-writer.js';
import { JOURNAL_MAX_WAIT_MS, limitedCall } from './limited-call.js';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import type { RedisClient } from './redis.js';
import { syncSchedulers, type SchedulerQueue } from './schedules.js';
import { recordJobFromStatus } from './record-job.js';
import type { RecordJobWriter } from './record-job-writer.js';

export type StatusMethod = 'getIncomingStatuses' | 'getOutgoingStatuses';

/**
 * The status methods publish no rate limit (docs/greenapi.md §6.1 has no row; they are beta):
 * UNCONFIRMED. The journals' 1 request/s is the careful reading. Each method is its own
 * budget in the shared limiter, so reading statuses never spends a download's or a journal's.
 */
const STATUS_RPS = 1;
/** Green-API's default window for both methods. */
const DEFAULT_WINDOW_MINUTES = 1440;
/**
 * A status seen stays known this long: Green-API keeps statuses 30 days, so a window can never
 * list one after its marker has gone.
 */
const SEEN_TTL_SECONDS = 31 * 86_400;

export type StatusesSummary = {
  idInstance: string;
  /** Statuses listed by both methods. */
  scanned: number;
  /** Listed before: already queued or kept (none is kept twice). */
  alreadyKnown: number;
  /** Newly queued: media statuses as file jobs, the others as records. */
  files: number;
  records: number;
  /** Media statuses past their deadline: Green-API no longer has the file. */
  skippedExpired: number;
  rateLimited: number;
  durationMs: number;
};

/**
 * Redis marker of a status already taken (per instance and message). Why a marker, not only
 * the write-once record: an outgoing status's `timestamp` is documented as the time of its
 * last action (sent → read), so its date, and with it its key, can move between two reads.
 * The first read's time is the one kept.
 */
const seenKey = (prefix: string, idInstance: string, item: Pick<JournalItem, 'idMessage'>) =>
  `${prefix}:statuses:seen:${archiveJobId(idInstance, '', item.idMessage)}`;

export type StatusReaderDeps = {
  redis: RedisClient;
  queuePrefix: string;
  writer: JobWriter;
  records: RecordJobWriter;
  limiter: RateLimiter;
  clientFor: (instance: InstanceConfig) => GreenApiClient;
  instances: Map<string, InstanceConfig>;
  retentionDays: number;
  /** STATUSES_WINDOW_MINUTES; 0 means Green-API's 1440. */
  windowMinutes?: number;
  maxRateLimitWaitMs?: number;
  metrics?: Metrics;
  logger: Logger;
};

export class StatusesUnknownInstanceError extends Error {
  override name = 'StatusesUnknownInstanceError';
}

/**
 * Statuses ("stories") have no webhook (docs/greenapi.md §12): this reads both status journals
 * of one instance and keeps each status once, as a message of the chat `status@broadcast`
 * (docs/conversation.md §7). A media status becomes a file job, the same job a file webhook
 * makes (the worker downloads it and writes its `message.json`); any other becomes a record.
 */
export function createStatusReader(deps: StatusReaderDeps) {
  const log = deps.logger.child({ component: 'statuses' });

  /** Queues what is new of `items`; a status is marked seen only once its job is stored. */
  async function take(instance: InstanceConfig, items: JournalItem[], summary: StatusesSummary) {
    summary.scanned += items.length;
    if (items.length === 0) return;
    const id = instance.idInstance;
    const kind = instance.kind ?? 'whatsapp';
    const keys = items.map((item) => seenKey(deps.queuePrefix, id, item));
    const seen = await deps.redis.mget(...keys);
    const now = Date.now();
    const retentionDays = retentionDaysOf(instance, deps.retentionDays);
    const taken = new Set<string>();
    await Promise.all(
      items.map(async (item, i) => {
        const key = keys[i] as string;
        // Listed twice in one answer, or by both methods: taken once.
        if (seen[i] !== null || taken.has(key)) {
          summary.alreadyKnown += 1;
          return;
        }
        taken.add(key);
        if (carriesFile(item)) {
          if (deadlineOf(item.timestamp, retentionDays) <= now) {
            summary.skippedExpired += 1;
            return;
          }
          const written = await deps.writer.write(jobFromStatus(id, kind, item, now));
          if (written.outcome === 'duplicate') summary.alreadyKnown += 1;
          else {
            summary.files += 1;
            deps.metrics?.statusesRecorded.inc({ instance: id, direction: item.type });
          }
        } else {
          await deps.records.write(recordJobFromStatus(id, kind, item, now));
          summary.records += 1;
          deps.metrics?.statusesRecorded.inc({ instance: id, direction: item.type });
        }
        await deps.redis.set(key, String(item.timestamp), 'EX', SEEN_TTL_SECONDS);
      }),
    );
  }

  async function run(
    req: StatusesRequest,
    opts: { signal?: AbortSignal } = {},
  ): Promise<StatusesSummary> {
    const instance = deps.instances.get(req.idInstance);
    if (!instance) {
      throw new StatusesUnknownInstanceError(`instance ${req.idInstance} is not configured`);
    }
    const started = Date.now();
    const client = deps.clientFor(instance);
    const minutes = req.minutes ?? (deps.windowMinutes || DEFAULT_WINDOW_MINUTES);
    const summary: StatusesSummary = {
      idInstance: instance.idInstance,
      scanned: 0,
      alreadyKnown: 0,
      files: 0,
      records: 0,
      skippedExpired: 0,
      rateLimited: 0,
      durationMs: 0,
    };
    const methods: StatusMethod[] = ['getIncomingStatuses', 'getOutgoingStatuses'];
    for (const method of methods) {
      const items = await limitedCall(
        deps.limiter,
        instance.idInstance,
        method,
        (signal) => client[method]({ minutes }, { signal }),
        {
          rps: STATUS_RPS,
          maxWaitMs: deps.maxRateLimitWaitMs ?? JOURNAL_MAX_WAIT_MS,
          signal: opts.signal,
          onRateLimited: () => (summary.rateLimited += 1),
          metrics: deps.metrics,
          log,
        },
      );
      if (items.invalid > 0) {
        log.warn(
          { idInstance: instance.idInstance, method, invalid: items.invalid },
          'statuses not understood were skipped',
        );
      }
      await take(instance, items, summary);
    }
    summary.durationMs = Date.now() - started;
    log.info(summary, 'statuses read');
    return summary;
  }

  return { run };
}

export type StatusReader = ReturnType<typeof createStatusReader>;

export type StatusesQueue = Queue<StatusesRequest, StatusesSummary, string>;

export function createStatusesQueue(connection: RedisClient, prefix: string): StatusesQueue {
  return new Queue(STATUSES_QUEUE, queueOptions(connection, prefix));
}

const SCHEDULER_PREFIX = 'statuses-';

export function statusesSchedulerId(idInstance: string): string {
  return `${SCHEDULER_PREFIX}${idInstance}`;
}

/**
 * One BullMQ job scheduler per configured instance, every `intervalMinutes`, reading the last
 * `windowMinutes` (either 0: off, and existing schedulers are removed), each at its own point
 * of the interval (`spreadOffset`, as backfill and checks): 5,000 instances never read their
 * status journals in the same second. BullMQ makes one job per interval whatever the number
 * of worker replicas; the upsert is idempotent, so every replica calls this at start-up and
 * on reload.
 */
export function scheduleStatuses(
  queue: SchedulerQueue,
  instances: Iterable<Pick<InstanceConfig, 'idInstance'>>,
  opts: { intervalMinutes: number; windowMinutes: number },
): Promise<{ scheduled: string[]; removed: string[]; moved: string[] }> {
  const enabled = opts.intervalMinutes > 0 && opts.windowMinutes > 0;
  return syncSchedulers(queue, {
    prefix: SCHEDULER_PREFIX,
    ids: [...instances].map((i) => i.idInstance),
    everyMs: enabled ? opts.intervalMinutes * 60_000 : 0,
    jobName: STATUSES_JOB,
    data: (idInstance) => ({ idInstance, minutes: opts.windowMinutes }),
    opts: STATUSES_JOB_OPTIONS,
  });
}

/** A status read's request as the worker reads it: validated, or why not. */
export function readStatusesRequest(
  raw: unknown,
): { ok: true; data: StatusesRequest } | { ok: false; error: string } {
  const parsed = statusesRequestSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: `invalid statuses request: ${z.prettifyError(parsed.error)}` };
  }
  return { ok: true, data: parsed.data };
}
