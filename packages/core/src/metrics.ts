import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RedisClient } from './redis.js';
import type { ArchiveQueue } from './queue.js';
import type { RedisKeys } from './redis-keys.js';
import type { QuarantineDrop } from './quarantine.js';
import { readReadiness } from './instance-readiness.js';

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The `instance` label for an id taken from a request: the id when it is a configured
 * instance, else `unknown`, so a sender cannot make a new time series per request.
 */
export function instanceLabeller(instances: Iterable<{ idInstance: string }>) {
  const known = new Set([...instances].map((i) => i.idInstance));
  return (idInstance: string | undefined): string =>
    idInstance !== undefined && known.has(idInstance) ? idInstance : 'unknown';
}

/**
 * What a process does with a body the quarantine dropped: count it by cap and log it (without
 * the body, which may hold anything). Late-bound, since the metrics are built after the
 * ingest path they watch.
 */
export function reportQuarantineDrops(
  metrics: () => Pick<Metrics, 'quarantineDropped'> | undefined,
  logger: { error(obj: object, msg: string): void },
) {
  return (drops: QuarantineDrop[]): void => {
    for (const drop of drops) {
      metrics()?.quarantineDropped.inc({ reason: drop.reason });
      logger.error(
        { component: 'quarantine', ...drop },
        `quarantined body dropped: over ${drop.reason === 'bytes' ? 'QUARANTINE_MAX_BYTES' : 'QUARANTINE_MAX'}`,
      );
    }
  };
}

const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'failed',
  'completed',
  'waiting-children',
] as const;

/**
 * The metric names of docs/architecture.md §8, on one registry per process. Both processes expose all of
 * them (a counter a process never touches stays at zero), plus Node's default metrics.
 */
export function createMetrics(
  opts: {
    queue?: ArchiveQueue;
    redis?: RedisClient;
    keys?: RedisKeys;
    /**
     * The configured instances, read at each scrape: given (the worker), the readiness gauge
     * exports their latest checks from Redis; every replica exports the same values.
     */
    instanceIds?: () => { has(id: string): boolean };
  } = {},
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    webhooks: new Counter({
      name: 'archiver_webhooks_total',
      help: 'Webhooks received, by typeWebhook and outcome',
      labelNames: ['type', 'outcome'] as const,
      registers,
    }),
    webhooksByInstance: new Counter({
      name: 'archiver_webhooks_by_instance_total',
      help: 'Authenticated webhooks received, by instance (for "no webhooks from an instance" alerts)',
      labelNames: ['instance'] as const,
      registers,
    }),
    jobs: new Counter({
      name: 'archiver_jobs_total',
      help: 'Archive jobs ended, by outcome (archived, duplicate, permanent_failure, expired)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'archiver_failures_total',
      help: 'Archive jobs ended without a file, by outcome and reason code',
      labelNames: ['outcome', 'reason'] as const,
      registers,
    }),
    bytesArchived: new Counter({
      name: 'archiver_bytes_archived_total',
      help: 'Bytes written to S3 as archived files',
      registers,
    }),
    jobDuration: new Histogram({
      name: 'archiver_job_duration_seconds',
      help: 'Duration of one archive attempt',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    greenApiRequests: new Counter({
      name: 'archiver_greenapi_requests_total',
      help: 'Green-API requests, by method and HTTP status (or "error")',
      labelNames: ['method', 'status'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'archiver_rate_limited_total',
      help: 'Green-API 429 answers, by instance',
      labelNames: ['instance'] as const,
      registers,
    }),
    instanceUnavailable: new Counter({
      name: 'archiver_instance_unavailable_total',
      help: 'Jobs delayed because the instance could not serve (401/403/466, not authorised), by instance',
      labelNames: ['instance'] as const,
      registers,
    }),
    jobsLost: new Counter({
      name: 'archiver_jobs_lost_total',
      help: 'Jobs that left the queue without an end (removed by hand, lost with Redis), found by the sweep and recorded as job_lost, by instance',
      labelNames: ['instance'] as const,
      registers,
    }),
    backfillFound: new Counter({
      name: 'archiver_backfill_found_total',
      help: 'Files found in Green-API journals that no webhook had delivered, by instance',
      labelNames: ['instance'] as const,
      registers,
    }),
    statusesRecorded: new Counter({
      name: 'archiver_statuses_recorded_total',
      help: 'Statuses ("stories") taken from the status journals, each once (its file or record job stored), by instance and direction (incoming, outgoing)',
      labelNames: ['instance', 'direction'] as const,
      registers,
    }),
    instanceReady: new Gauge({
      name: 'archiver_instance_ready',
      help: 'Latest readiness check of an instance: 1 passed, 0 failed (archiver doctor), by check',
      labelNames: ['instance', 'check'] as const,
      registers,
      async collect() {
        if (!opts.redis || !opts.keys || !opts.instanceIds) return;
        const ready = await readReadiness(opts.redis, opts.keys, opts.instanceIds()).catch(
          () => undefined,
        );
        if (!ready) return;
        // Reset first: a removed instance's series go with it.
        this.reset();
        for (const [instance, checks] of ready) {
          for (const [check, value] of Object.entries(checks)) this.set({ instance, check }, value);
        }
      },
    }),
    quarantined: new Gauge({
      name: 'archiver_quarantine_size',
      help: 'Unrecognised webhook bodies kept in quarantine',
      registers,
      async collect() {
        if (opts.redis && opts.keys) {
          this.set(await opts.redis.zcard(opts.keys.quarantine).catch(() => 0));
        }
      },
    }),
    quarantineDropped: new Counter({
      name: 'archiver_quarantine_dropped_total',
      help: 'Quarantined webhook bodies dropped to honour QUARANTINE_MAX (count) or QUARANTINE_MAX_BYTES (bytes)',
      labelNames: ['reason'] as const,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'archiver_queue_jobs',
      help: 'Archive jobs by BullMQ state',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        if (!opts.queue) return;
        const counts = await opts.queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
        if (!counts) return;
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    }),
    oldestDeadline: new Gauge({
      name: 'archiver_oldest_deadline_seconds',
      help: 'Smallest time to expiry among unfinished archive jobs (+Inf when nothing waits)',
      registers,
      async collect() {
        if (!opts.redis || !opts.keys) return;
        const deadline = await oldestDeadlineMs(opts.redis, opts.keys).catch(() => undefined);
        if (deadline === undefined) return;
        this.set(deadline === null ? Infinity : (deadline - Date.now()) / 1000);
      },
    }),
  };
  // The counters labelled by instance. The readiness gauge is rebuilt at each scrape instead.
  const perInstance = [
    metrics.webhooksByInstance,
    metrics.rateLimited,
    metrics.instanceUnavailable,
    metrics.jobsLost,
    metrics.backfillFound,
  ];
  return {
    ...metrics,
    /**
     * Drops the series of instances removed by a reload, so a process's series per instance
     * are bounded by the instances configured now, not by every instance it ever had. A
     * counter that comes back (the instance added again, a queued job of it still running)
     * starts from 0, which Prometheus reads as a reset.
     */
    forgetInstances(ids: readonly string[]): void {
      for (const instance of ids) {
        for (const counter of perInstance) counter.remove({ instance });
        for (const direction of ['incoming', 'outgoing']) {
          metrics.statusesRecorded.remove({ instance, direction });
        }
      }
    },
  };
}

/** The metrics with an `instance` label: what bounds a process's series per instance. */
export const PER_INSTANCE_METRICS = [
  'archiver_webhooks_by_instance_total',
  'archiver_rate_limited_total',
  'archiver_instance_unavailable_total',
  'archiver_jobs_lost_total',
  'archiver_backfill_found_total',
  'archiver_statuses_recorded_total',
  'archiver_instance_ready',
] as const;

/** Entries of the deadline index looked at, from the earliest, for one whose job is there. */
const OLDEST_LOOKAHEAD = 100;

/**
 * The earliest deadline among unfinished jobs, from the deadlines set. An entry whose job is
 * gone is skipped, never removed: it is a job that left without an end, which the lost-job
 * sweep records in S3 and counts before it removes the entry (lost-jobs.ts). When every entry
 * looked at is such a one, the earliest of them is the answer: the gauge errs towards an
 * alert, and the sweep clears them within its interval.
 */
export async function oldestDeadlineMs(
  redis: RedisClient,
  keys: RedisKeys,
): Promise<number | null> {
  const flat = await redis.zrange(keys.deadlines, 0, OLDEST_LOOKAHEAD - 1, 'WITHSCORES');
  if (flat.length === 0) return null;
  const entries: Array<{ jobId: string; score: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    entries.push({ jobId: flat[i] as string, score: Number(flat[i + 1]) });
  }
  const present = await Promise.all(entries.map((e) => redis.exists(keys.job(e.jobId))));
  const found = entries.find((_, i) => present[i] === 1) ?? entries[0];
  return found ? found.score : null;
}
