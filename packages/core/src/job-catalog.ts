import type { JobsOptions, QueueOptions, Telemetry, WorkerOptions } from 'bullmq';
import { z } from 'zod';
import { idInstanceString, instanceKindSchema } from '@archiver/greenapi';
import type { Config } from './config.js';
import type { RedisClient } from './redis.js';
import { receivedSchema } from './sidecar.js';

/*
 * Every BullMQ job the archiver runs, in one place: its queue, its name, the schema of its
 * data and its options (docs/architecture.md §12 is this module as a table; a test keeps
 * the two in step). Producers (receiver, poller, CLI, backfill) and the worker's processors
 * import what they need from here, so a job cannot be written in one shape and read in
 * another. What builds or reads a job's data lives beside its kind: job.ts (files),
 * record-job.ts (records), backfill.ts (reconciliation runs).
 */

export const ARCHIVE_QUEUE = 'archive';
/**
 * Records have a queue of their own: writing one is a single S3 PUT, with no Green-API call,
 * rate budget or deadline, so it must not wait behind a backlog of file downloads (which the
 * archive queue orders by deadline) nor hold one up.
 */
export const RECORD_QUEUE = 'records';
export const BACKFILL_QUEUE = 'backfill';
/** Reads of the status journals (statuses.ts): one job per instance and interval. */
export const STATUSES_QUEUE = 'statuses';
/** Readiness checks: a few quick calls each, never behind a long journal read. */
export const CHECK_QUEUE = 'checks';

export const ARCHIVE_JOB = 'archive-file';
export const RECORD_JOB = 'record-event';
export const BACKFILL_JOB = 'reconcile';
export const STATUSES_JOB = 'read-statuses';
/** The readiness check of one instance (instance-check.ts). */
export const CHECK_JOB = 'check-instance';

/**
 * How a body reached the archiver: webhook, polled notification, journal, quarantine replay,
 * or a status journal (getIncoming/OutgoingStatuses: statuses have no webhook).
 */
export const jobSourceSchema = z.enum(['webhook', 'poll', 'journal', 'replay', 'statuses']);
export type JobSource = z.infer<typeof jobSourceSchema>;

/**
 * What Redis holds for one file job, and nothing secret: no token, no thumbnail, no link
 * signature. `message` is the body as received (or the journal item), packed
 * (kept-message.ts); every fact the worker needs about the file (ids, time, names) is read
 * back out of it (`readArchiveJob`, job.ts) rather than stored beside it: every queued byte
 * costs Redis memory, and one copy cannot disagree with itself.
 */
export const archiveJobSchema = z.object({
  source: jobSourceSchema,
  /** Configured or from typeInstance (`resolveKind`): not always the body's own word. */
  kind: instanceKindSchema,
  /** Only for journal and status items, which do not carry it; a webhook's is in its body. */
  idInstance: idInstanceString.optional(),
  message: z.string(),
  /** When the archiver first saw it (ms). */
  receivedAt: z.number(),
  /** The last transient error, kept so an `expired` record can say why. */
  lastError: z.string().optional(),
  /**
   * Set by `archiver retry-failed`: the job may run until then even past its deadline
   * (Green-API may still hold a file whose window is not published, as on WhatsApp).
   */
  graceUntil: z.number().optional(),
  /** A downloadFile slot reserved in the rate limiter (Redis clock, ms), kept across a delay. */
  slotAt: z.number().optional(),
  /**
   * When a worker first met the job without knowing its instance (ms): the job waits for the
   * configuration to catch up from then on, for a bounded time (apps/worker archive-file.ts).
   */
  unknownSince: z.number().optional(),
  /** The SHA-256 and length of the bytes received, for the record; none from the journals. */
  received: receivedSchema.optional(),
});

/** A file job's data as BullMQ stores it. */
export type ArchiveJobData = z.infer<typeof archiveJobSchema>;

/**
 * What the worker needs to write one record: where it goes (validated here, so the worker
 * builds keys only from checked fields) and the body, packed as file jobs pack it. No secret,
 * no thumbnail. `record: 'message'` is a message without a file (its `message.json`);
 * `event` is a status, call, instance state or quota notice (docs/conversation.md §3).
 */
const recordJobFields = z.object({
  record: z.enum(['message', 'event']),
  source: jobSourceSchema,
  idInstance: idInstanceString,
  kind: instanceKindSchema,
  typeWebhook: z.string().min(1),
  /** Messages: always. Events: the chat they belong to; undefined for the instance's. */
  chatId: z.string().min(1).optional(),
  /** Messages: the message's id. Events: the id they name (a status's message, a call). */
  idMessage: z.string().min(1).optional(),
  typeMessage: z.string().min(1).optional(),
  stanzaId: z.string().min(1).optional(),
  /** UNIX seconds: the event's time, or when it was received where it names none. */
  timestamp: z.number().int().nonnegative(),
  timestampFrom: z.enum(['event', 'received']).optional(),
  /** Events: hex SHA-256 of the kept body, which names the event's key. */
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  message: z.string(),
  receivedAt: z.number(),
  received: receivedSchema.optional(),
});

export const recordJobSchema = recordJobFields
  .refine((d) => d.record === 'event' || (d.chatId && d.idMessage && d.typeMessage), {
    message: 'a message record needs chatId, idMessage and typeMessage',
  })
  .refine((d) => d.record === 'message' || d.digest, { message: 'an event needs its digest' });

/** A record job's data as the archiver works with it. */
export type RecordJobData = z.infer<typeof recordJobSchema>;

/**
 * A record job's data as BullMQ stores it (`storedRecordData`): a message leaves out the
 * facts its kept body holds, as a file job does, and `readRecordJob` reads them back. Jobs
 * queued with their facts still read as they are.
 */
export const storedRecordJobSchema = recordJobFields.partial({
  idInstance: true,
  typeWebhook: true,
  timestamp: true,
});

export type StoredRecordJobData = z.infer<typeof storedRecordJobSchema>;

/** A reconciliation run: the journals of the last `minutes`, or one chat's history. */
export const backfillRequestSchema = z.union([
  z.strictObject({
    idInstance: idInstanceString,
    chatId: z.string().min(1),
    count: z.number().int().positive().optional(),
  }),
  z.strictObject({ idInstance: idInstanceString, minutes: z.number().int().positive().optional() }),
]);

export type BackfillRequest = z.infer<typeof backfillRequestSchema>;

/** A read of one instance's status journals over the last `minutes`. */
export const statusesRequestSchema = z.strictObject({
  idInstance: idInstanceString,
  minutes: z.number().int().positive().optional(),
});
export type StatusesRequest = z.infer<typeof statusesRequestSchema>;
/** A scheduled readiness check of one instance. */
export const instanceCheckRequestSchema = z.strictObject({ idInstance: idInstanceString });

/**
 * Readiness checks: not retried (the next one comes within the interval), and only the
 * latest few kept: the result that matters is in `{prefix}:instances:ready`.
 */
export const CHECK_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 1000, age: 7 * 86_400 },
} as const satisfies JobsOptions;

/**
 * Archive jobs: retries are bounded by the deadline, not by a count (the worker's `deadline`
 * backoff never schedules past it). Each job adds its id (from idInstance, chatId,
 * idMessage) and its priority (from the deadline): `archiveJobRequest` in queue.ts.
 */
export const ARCHIVE_JOB_OPTIONS = {
  attempts: 100_000,
  backoff: { type: 'deadline' },
} as const satisfies JobsOptions;

/**
 * Record jobs: retried with backoff until written, since nothing about a record expires;
 * gone at once when done: the record in S3 is the durable proof, and a duplicate after that
 * is answered by the write-once record (nothing changes). Queued jobs alone cost Redis.
 */
export const RECORD_JOB_OPTIONS = {
  attempts: 100_000,
  // The worker's backoff strategy: exponential with jitter, capped (RETRY_*_DELAY_MS).
  backoff: { type: 'capped' },
  removeOnComplete: true,
} as const satisfies JobsOptions;

/**
 * Reconciliation runs, added by each instance's job scheduler: a failed run is retried a
 * few times; the next scheduled run covers the same window anyway.
 */
export const BACKFILL_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 60_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 1000, age: 30 * 86_400 },
} as const satisfies JobsOptions;

/** Status reads, added by each instance's job scheduler: retried as reconciliation runs are. */
export const STATUSES_JOB_OPTIONS = BACKFILL_JOB_OPTIONS;

/**
 * Failed archive and record jobs stay 90 days: the work list of `retry-failed` and the place
 * to inspect invalid data; their records in S3 are the durable proof. Set on the Worker, not
 * on each job, where it would cost every queued job's memory.
 */
export const KEEP_FAILED = {
  removeOnFail: { age: 90 * 86_400, count: 100_000 },
} as const satisfies Pick<WorkerOptions, 'removeOnFail'>;

/**
 * How long finished archive jobs stay: completed a week, for the dashboard (the dedupe
 * marker outlives them); failed as KEEP_FAILED.
 */
export const KEEP_FINISHED = {
  removeOnComplete: { age: 7 * 86_400, count: 50_000 },
  ...KEEP_FAILED,
} as const satisfies Pick<WorkerOptions, 'removeOnComplete' | 'removeOnFail'>;

/**
 * BullMQ's event stream of the archive and record queues, capped (approximately) at this
 * many entries instead of BullMQ's 10,000. Nothing here reads it (metrics and the dashboard
 * read the job sets); a short tail is enough for someone watching with QueueEvents, and
 * every entry costs Redis memory.
 */
export const EVENTS_MAX_LEN = 1000;

/** What every queue of ours is opened with; the archive and record queues cap their events. */
export function queueOptions(
  connection: RedisClient,
  prefix: string,
  opts: { telemetry?: Telemetry; capEvents?: boolean } = {},
): QueueOptions {
  return {
    connection,
    prefix,
    telemetry: opts.telemetry,
    ...(opts.capEvents ? { streams: { events: { maxLen: EVENTS_MAX_LEN } } } : {}),
  };
}

/**
 * What the archive and record workers share. A killed worker's jobs come back after the
 * lock expires; stalls are not failures here (the deadline bounds an archive job, nothing
 * bounds a record), so the stall count is set out of reach.
 */
export function jobWorkerOptions(
  connection: RedisClient,
  config: Pick<Config, 'queuePrefix' | 'workerConcurrency' | 'lockDurationMs'>,
  opts: { autorun?: boolean; telemetry?: Telemetry } = {},
) {
  return {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    autorun: opts.autorun ?? true,
    telemetry: opts.telemetry,
    lockDuration: config.lockDurationMs,
    stalledInterval: Math.max(1000, Math.floor(config.lockDurationMs / 2)),
    maxStalledCount: 1000,
  } satisfies WorkerOptions;
}

/**
 * The backfill worker runs one run at a time per process: the journals are read at
 * 1 request/s anyway, so parallel runs would only wait on each other.
 */
export const BACKFILL_CONCURRENCY = 1;
/** Status reads likewise: one at a time per process, each method at 1 request/s. */
export const STATUSES_CONCURRENCY = 1;

/**
 * Checks in flight per worker process: each waits mostly on Green-API, and the checks of one
 * instance never overlap (one per interval, at its own point).
 */
export const CHECK_CONCURRENCY = 4;

/** The catalog as data, for the docs test and for whoever needs to list the jobs. */
export const JOB_CATALOG = [
  {
    queue: ARCHIVE_QUEUE,
    name: ARCHIVE_JOB,
    schema: archiveJobSchema,
    options: ARCHIVE_JOB_OPTIONS,
  },
  { queue: RECORD_QUEUE, name: RECORD_JOB, schema: recordJobSchema, options: RECORD_JOB_OPTIONS },
  {
    queue: BACKFILL_QUEUE,
    name: BACKFILL_JOB,
    schema: backfillRequestSchema,
    options: BACKFILL_JOB_OPTIONS,
  },
  {
    queue: STATUSES_QUEUE,
    name: STATUSES_JOB,
    schema: statusesRequestSchema,
    options: STATUSES_JOB_OPTIONS,
  },
  {
    queue: CHECK_QUEUE,
    name: CHECK_JOB,
    schema: instanceCheckRequestSchema,
    options: CHECK_JOB_OPTIONS,
  },
] as const;
