import type { Logger } from 'pino';
import { z } from 'zod';
import {
  isFileMessageType,
  type GreenApiClient,
  type JournalItem,
  type JournalPage,
} from '@archiver/greenapi';
import { deadlineOf, retentionDaysOf } from './deadline.js';
import type { InstanceConfig } from './instances.js';
import { syncSchedulers, type SchedulerQueue } from './schedules.js';
import { archiveJobId, jobFromJournal, type ArchiveJob } from './job.js';
import {
  BACKFILL_JOB,
  BACKFILL_JOB_OPTIONS,
  backfillRequestSchema,
  type BackfillRequest,
} from './job-catalog.js';
import type { JobWriter } from './job-writer.js';
import type { RecordedIndex } from './recorded-index.js';
import { recordJobFromJournal, recordJobId } from './record-job.js';
import type { RecordJobWriter } from './record-job-writer.js';
import type { Metrics } from './metrics.js';
import { JOURNAL_MAX_WAIT_MS, limitedCall } from './limited-call.js';
import type { RateLimiter } from './rate-limit.js';

/** Journals are documented at 1 request/s per instance and method (docs/greenapi.md §6.1, §8). */
const JOURNAL_RPS = 1;
/** Green-API's own default window for lastIncoming/OutgoingMessages. */
const DEFAULT_WINDOW_MINUTES = 1440;
/** Jobs written per group-commit round: bounds one addBulk and the promises in flight. */
const WRITE_CHUNK = 500;

export type JournalMethod = 'lastIncomingMessages' | 'lastOutgoingMessages' | 'getChatHistory';

export type BackfillCounts = {
  /** Journal entries read, files or not. */
  scanned: number;
  /** Entries carrying a file. */
  found: number;
  /** Files already queued or archived (the webhook or an earlier run got there first). */
  alreadyKnown: number;
  /** Files newly queued: the ones the webhooks missed. */
  enqueued: number;
  /** Files past their deadline: Green-API no longer has them. */
  skippedExpired: number;
  /** Entries without a file (texts, edits, deletions, reactions …), and the new ones queued. */
  messagesFound: number;
  messagesEnqueued: number;
  /** 429 answers met (and waited out) on the way. */
  rateLimited: number;
};

export type BackfillSummary = BackfillCounts & {
  idInstance: string;
  mode: 'journal' | 'chat';
  durationMs: number;
};

export type BackfillProgress = BackfillCounts & { idInstance: string; method: JournalMethod };

export type BackfillRunOptions = {
  signal?: AbortSignal;
  onProgress?: (p: BackfillProgress) => void;
};

/** The request names an instance that is not configured: retrying cannot help. */
export class BackfillUnknownInstanceError extends Error {
  override name = 'BackfillUnknownInstanceError';
}

export type BackfillDeps = {
  writer: JobWriter;
  /** Where a missed message without a file goes: a record job (docs/conversation.md §1). */
  records: RecordJobWriter;
  /** Messages recorded lately, so a run queues only those missing (recorded-index.ts). */
  recorded: RecordedIndex;
  limiter: RateLimiter;
  clientFor: (instance: InstanceConfig) => GreenApiClient;
  instances: Map<string, InstanceConfig>;
  /** Default retention window; an instance's own `retentionDays` wins. */
  retentionDays: number;
  /** Journal window when the request names none (BACKFILL_WINDOW_MINUTES); 0 means Green-API's 1440. */
  windowMinutes?: number;
  maxRateLimitWaitMs?: number;
  metrics?: Metrics;
  logger: Logger;
};

/**
 * Reconciliation from Green-API's journals (docs/architecture.md §6): every file message they list
 * that is neither queued nor archived becomes an archive job. The job writer's dedupe (live
 * job or `done` marker) makes a run idempotent, so runs may overlap with webhooks and with
 * each other. Journal calls share the Redis rate budget with every other process.
 */
export function createBackfill(deps: BackfillDeps) {
  const log = deps.logger.child({ component: 'backfill' });

  /**
   * Entries without a file become record jobs, unless recorded lately or queued: a journal
   * lists thousands of messages every run, nearly all kept already. The write-once record
   * stays the guard under it (a message found here and by its webhook at once is written once).
   */
  async function enqueueMessages(
    instance: InstanceConfig,
    items: JournalItem[],
    counts: BackfillCounts,
    seen: Set<string>,
  ) {
    const now = Date.now();
    const jobs = [];
    for (const item of items) {
      if (carriesFile(item)) continue;
      const job = recordJobFromJournal(instance.idInstance, instance.kind ?? 'whatsapp', item, now);
      const jobId = recordJobId(job);
      if (seen.has(jobId)) continue;
      seen.add(jobId);
      counts.messagesFound += 1;
      jobs.push({ job, jobId });
    }
    for (let i = 0; i < jobs.length; i += WRITE_CHUNK) {
      const chunk = jobs.slice(i, i + WRITE_CHUNK);
      const known = await deps.recorded.known(
        instance.idInstance,
        chunk.map((j) => j.jobId),
      );
      const missed = chunk.filter((_, k) => !known[k]);
      counts.alreadyKnown += chunk.length - missed.length;
      await Promise.all(missed.map(({ job }) => deps.records.write(job)));
      counts.messagesEnqueued += missed.length;
      if (missed.length > 0) {
        log.debug(
          { idInstance: instance.idInstance, messages: missed.length },
          'backfill found missed messages',
        );
      }
    }
  }

  /** Turns file entries into jobs, skipping expired ones, and writes them; updates counts. */
  async function enqueueFiles(
    instance: InstanceConfig,
    items: JournalItem[],
    counts: BackfillCounts,
    seen: Set<string>,
  ) {
    const now = Date.now();
    const retentionDays = retentionDaysOf(instance, deps.retentionDays);
    const jobs: ArchiveJob[] = [];
    counts.scanned += items.length;
    for (const item of items) {
      if (!carriesFile(item)) continue;
      // The same message can be listed twice (e.g. incoming journal and chat history).
      const jobId = archiveJobId(instance.idInstance, item.chatId, item.idMessage);
      if (seen.has(jobId)) continue;
      seen.add(jobId);
      counts.found += 1;
      if (deadlineOf(item.timestamp, retentionDays) <= now) {
        counts.skippedExpired += 1;
        continue;
      }
      jobs.push(jobFromJournal(instance.idInstance, instance.kind ?? 'whatsapp', item, now));
    }
    for (let i = 0; i < jobs.length; i += WRITE_CHUNK) {
      const results = await Promise.all(
        jobs.slice(i, i + WRITE_CHUNK).map((job) => deps.writer.write(job)),
      );
      for (const result of results) {
        if (result.outcome === 'accepted') {
          counts.enqueued += 1;
          deps.metrics?.backfillFound.inc({ instance: instance.idInstance });
          log.debug(
            { idInstance: instance.idInstance, jobId: result.jobId },
            'backfill found a missed file',
          );
        } else {
          counts.alreadyKnown += 1;
        }
      }
    }
  }

  async function run(
    req: BackfillRequest,
    opts: BackfillRunOptions = {},
  ): Promise<BackfillSummary> {
    const instance = deps.instances.get(req.idInstance);
    if (!instance) {
      throw new BackfillUnknownInstanceError(`instance ${req.idInstance} is not configured`);
    }
    const started = Date.now();
    const client = deps.clientFor(instance);
    const counts: BackfillCounts = {
      scanned: 0,
      found: 0,
      alreadyKnown: 0,
      enqueued: 0,
      skippedExpired: 0,
      messagesFound: 0,
      messagesEnqueued: 0,
      rateLimited: 0,
    };
    const seen = new Set<string>();
    const { signal } = opts;
    const step = async (
      method: JournalMethod,
      call: (s?: AbortSignal) => Promise<JournalItem[]>,
    ) => {
      const items = await limitedCall(deps.limiter, instance.idInstance, method, call, {
        rps: JOURNAL_RPS,
        maxWaitMs: deps.maxRateLimitWaitMs ?? JOURNAL_MAX_WAIT_MS,
        signal,
        onRateLimited: () => (counts.rateLimited += 1),
        metrics: deps.metrics,
        log,
      });
      const invalid = (items as Partial<JournalPage>).invalid ?? 0;
      if (invalid > 0) {
        log.warn(
          { idInstance: instance.idInstance, method, invalid },
          'journal entries not understood were skipped',
        );
      }
      await enqueueFiles(instance, items, counts, seen);
      await enqueueMessages(instance, items, counts, seen);
      opts.onProgress?.({ idInstance: instance.idInstance, method, ...counts });
    };

    if ('chatId' in req) {
      const args = { chatId: req.chatId, ...(req.count === undefined ? {} : { count: req.count }) };
      await step('getChatHistory', (s) => client.getChatHistory(args, { signal: s }));
    } else {
      const minutes = req.minutes ?? (deps.windowMinutes || DEFAULT_WINDOW_MINUTES);
      await step('lastIncomingMessages', (s) =>
        client.lastIncomingMessages({ minutes }, { signal: s }),
      );
      await step('lastOutgoingMessages', (s) =>
        client.lastOutgoingMessages({ minutes }, { signal: s }),
      );
    }

    const summary: BackfillSummary = {
      idInstance: instance.idInstance,
      mode: 'chatId' in req ? 'chat' : 'journal',
      ...counts,
      durationMs: Date.now() - started,
    };
    // A file found here is one the webhooks (or the poller) missed: worth a warning.
    if (summary.enqueued > 0 || summary.messagesEnqueued > 0) {
      log.warn(summary, 'backfill enqueued messages no webhook had delivered');
    } else log.info(summary, 'backfill done');
    return summary;
  }

  return { run };
}

export type Backfill = ReturnType<typeof createBackfill>;

/** A documented file type, or any entry with a link (a type the docs do not list yet). */
export function carriesFile(item: Pick<JournalItem, 'typeMessage' | 'downloadUrl'>): boolean {
  return (
    isFileMessageType(item.typeMessage) ||
    (item.downloadUrl !== undefined && item.downloadUrl.trim() !== '')
  );
}

const SCHEDULER_PREFIX = 'reconcile-';

export function backfillSchedulerId(idInstance: string): string {
  return `${SCHEDULER_PREFIX}${idInstance}`;
}

/**
 * One BullMQ job scheduler per configured instance, every `intervalMinutes`, reading the last
 * `windowMinutes`, each at its own point in the interval (`spreadOffset`): 5,000 instances
 * never read their journals in the same second. Either set to 0 turns reconciliation off:
 * existing schedulers are removed. Schedulers of instances no longer configured are removed
 * too. Safe to call from every worker process at start-up and on reload.
 */
export async function scheduleBackfills(
  queue: SchedulerQueue,
  instances: Iterable<Pick<InstanceConfig, 'idInstance'>>,
  opts: { intervalMinutes: number; windowMinutes: number },
): Promise<{ scheduled: string[]; removed: string[] }> {
  const enabled = opts.intervalMinutes > 0 && opts.windowMinutes > 0;
  return syncSchedulers(queue, {
    prefix: SCHEDULER_PREFIX,
    ids: [...instances].map((i) => i.idInstance),
    everyMs: enabled ? opts.intervalMinutes * 60_000 : 0,
    jobName: BACKFILL_JOB,
    data: (idInstance) => ({ idInstance, minutes: opts.windowMinutes }),
    opts: BACKFILL_JOB_OPTIONS,
  });
}

/**
 * A backfill job's data, validated: an invalid request can never succeed, so the
 * processor fails it at once with this error.
 */
export function readBackfillRequest(
  raw: unknown,
): { ok: true; data: BackfillRequest } | { ok: false; error: string } {
  const parsed = backfillRequestSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: `invalid backfill request: ${z.prettifyError(parsed.error)}` };
  }
  return { ok: true, data: parsed.data };
}
