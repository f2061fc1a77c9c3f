import {
  ARCHIVE_QUEUE,
  RECORD_QUEUE,
  forEachLimit,
  instanceMap,
  retentionResolver,
} from '@archiver/core';
import {
  HELP_OPTION,
  instanceId,
  oneOf,
  parseCommandArgs,
  positiveInt,
  UsageError,
} from '../args.js';
import type { CliDeps } from '../deps.js';
import { scanFailedJobs, type FailedJobRef } from '../failed-jobs.js';
import { reasonMatches } from '../failed-reason.js';
import { formatTable, plural } from '../format.js';
import { createProgress } from '../progress.js';
import { requeueArchiveJob, requeueRecordJob } from '../requeue.js';
import { EXIT, type Command } from './command.js';

/** The queues whose failed jobs can be re-queued, named as `--queue` takes them. */
export const RETRY_QUEUES = [ARCHIVE_QUEUE, RECORD_QUEUE] as const;
export type RetryQueue = (typeof RETRY_QUEUES)[number];

export type RetryOptions = {
  reason?: string;
  instance?: string;
  /** Only this queue's failed jobs; both when absent. */
  queue?: RetryQueue;
  dryRun: boolean;
  graceMinutes: number;
};

export type QueueRetry = {
  selected: FailedJobRef[];
  requeued: string[];
  /** Jobs selected but left alone: gone or no longer failed by the time they were reached. */
  skipped: Array<{ jobId: string; why: string }>;
};

/** Per queue looked at (a queue left out by `--queue` is absent). */
export type RetryResult = { [Q in RetryQueue]?: QueueRetry } & { graceUntil: number };

const DEFAULT_GRACE_MINUTES = 60;
const CONCURRENCY = 16;
const LISTED = 20;

/**
 * Selects failed jobs (all, or by reason, instance and/or queue) and re-queues exactly
 * those: archive jobs with a grace past their deadline (requeueArchiveJob), record jobs as
 * they are (requeueRecordJob). Every selection is listed first and acted on after, so a job
 * that fails again while the command runs is not picked up twice.
 */
export async function retryFailed(
  deps: CliDeps,
  opts: RetryOptions,
  now = Date.now(),
): Promise<RetryResult> {
  const result: RetryResult = { graceUntil: now + opts.graceMinutes * 60_000 };
  const queues: readonly RetryQueue[] = opts.queue ? [opts.queue] : RETRY_QUEUES;
  for (const queue of queues) {
    result[queue] = { selected: await select(deps, queue, opts), requeued: [], skipped: [] };
  }
  const total = queues.reduce((n, q) => n + (result[q]?.selected.length ?? 0), 0);
  if (opts.dryRun || total === 0) return result;

  const retention = retentionResolver(
    instanceMap(deps.config.instances),
    deps.config.retentionDays,
  );
  const progress = createProgress(deps.err, 're-queueing');
  let done = 0;
  for (const queue of queues) {
    const part = result[queue];
    if (!part) continue;
    await forEachLimit(part.selected, CONCURRENCY, async ({ jobId }) => {
      const why =
        queue === ARCHIVE_QUEUE
          ? await requeueArchiveJob(deps, jobId, result.graceUntil, retention)
          : await requeueRecordJob(deps, jobId);
      if (why === undefined) part.requeued.push(jobId);
      else part.skipped.push({ jobId, why });
      progress.update({ done: (done += 1), total, final: true });
    });
  }
  progress.finish();
  return result;
}

async function select(
  deps: CliDeps,
  queue: RetryQueue,
  opts: RetryOptions,
): Promise<FailedJobRef[]> {
  const selected: FailedJobRef[] = [];
  const source = queue === ARCHIVE_QUEUE ? deps.queue : deps.recordQueue;
  for await (const ref of scanFailedJobs(source, deps.redis, { instance: opts.instance })) {
    if (reasonMatches(ref.reason, opts.reason)) selected.push(ref);
  }
  return selected;
}

export function formatRetry(r: RetryResult, opts: RetryOptions): string {
  const filters = [
    opts.queue && `queue ${opts.queue}`,
    opts.reason && `reason ${opts.reason}`,
    opts.instance && `instance ${opts.instance}`,
  ]
    .filter(Boolean)
    .join(', ');
  const suffix = filters ? ` (${filters})` : '';
  const queues = RETRY_QUEUES.filter((q) => r[q] !== undefined);
  if (queues.every((q) => r[q]?.selected.length === 0)) return `No failed jobs match${suffix}.\n`;
  const grace = new Date(r.graceUntil).toISOString();
  const archive = r[ARCHIVE_QUEUE];
  const records = r[RECORD_QUEUE];
  const blocks = [
    // The archive queue's lines as they were before record jobs could be re-queued.
    archive &&
      queueLines(archive, opts.dryRun, {
        what: `${plural(archive.selected.length, 'failed job')}${suffix}`,
        dryRunTail: `, grace until ${grace}`,
        requeued: `Re-queued ${archive.requeued.length}, grace until ${grace}`,
      }),
    records &&
      queueLines(records, opts.dryRun, {
        what: `${plural(records.selected.length, 'failed record job')}${suffix}`,
        dryRunTail: '',
        requeued: `Re-queued ${plural(records.requeued.length, 'record job')}`,
      }),
  ].filter((block): block is string[] => block !== undefined && block.length > 0);
  const lines = blocks.flatMap((block, k) => (k === 0 ? block : ['', ...block]));
  const counts = queues.map(
    (q) => `${q} ${(opts.dryRun ? r[q]?.selected : r[q]?.requeued)?.length ?? 0}`,
  );
  lines.push('', `${opts.dryRun ? 'Would re-queue' : 'Re-queued'} per queue: ${counts.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** One queue's part of the report: what was selected and, unless a dry run, what became of it. */
function queueLines(
  part: QueueRetry,
  dryRun: boolean,
  say: { what: string; dryRunTail: string; requeued: string },
): string[] {
  if (part.selected.length === 0) return [];
  return [
    dryRun ? `Dry run: would re-queue ${say.what}${say.dryRunTail}` : `Selected ${say.what}`,
    ...selectionLines(part.selected),
    ...(dryRun ? [] : [say.requeued, ...skippedLines(part)]),
  ];
}

/** The selection by instance and reason, then its first jobs. */
function selectionLines(selected: FailedJobRef[]): string[] {
  const groups = new Map<string, number>();
  for (const ref of selected) {
    const key = `${ref.idInstance ?? 'unknown'}\t${ref.reason.outcome}: ${ref.reason.code}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const rows = [...groups.entries()]
    .sort()
    .map(([key, count]) => [...key.split('\t'), count] as [string, string, number]);
  const shown = selected
    .slice(0, LISTED)
    .map((ref) => `  ${ref.jobId}  ${ref.reason.outcome}: ${ref.reason.code}`);
  return [
    formatTable([['instance', 'reason', 'jobs'], ...rows]),
    'Jobs:',
    ...shown,
    ...(selected.length > LISTED ? [`  … and ${selected.length - LISTED} more`] : []),
  ];
}

function skippedLines(part: QueueRetry): string[] {
  if (part.skipped.length === 0) return [];
  return [`Skipped ${part.skipped.length}:`, ...part.skipped.map((s) => `  ${s.jobId}  ${s.why}`)];
}

const HELP = `Usage: archiver retry-failed [--reason CODE] [--instance ID] [--queue archive|records]
                            [--dry-run] [--grace-minutes N]

Re-queues failed jobs: all of them, or those matching the filters. File jobs (the archive
queue) may run for the grace period even past their deadline (Green-API may still hold the
file) and rewrite their sidecar with the new outcome. Record jobs (the records queue: texts,
edits, deletions, statuses, calls) have no deadline and run again as stored, e.g. those an
older worker failed as invalid_job during an upgrade; a record already written stays as it is.

Options:
  --reason CODE        a reason code (no_file, too_large, bad_request,
                       download_host_not_allowed, invalid_job, deadline_passed, unknown)
                       or an outcome (permanent_failure, expired)
  --instance ID        only jobs of this idInstance
  --queue NAME         only this queue's jobs: archive (files) or records (default both)
  --dry-run            list what would be re-queued; change nothing
  --grace-minutes N    how long past its deadline a file job may run (default ${DEFAULT_GRACE_MINUTES})
  -h, --help           this help
`;

export const retryFailedCommand: Command = {
  name: 'retry-failed',
  summary: 're-queue failed jobs (filter by --reason / --instance / --queue; --dry-run)',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      reason: { type: 'string' },
      instance: { type: 'string' },
      queue: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'grace-minutes': { type: 'string' },
    });
    if (values.help) return 'help';
    if (values.reason !== undefined && !/^[a-z][a-z0-9_]*$/.test(values.reason)) {
      throw new UsageError(
        `--reason: expected a reason code such as no_file, got "${values.reason}"`,
      );
    }
    const opts: RetryOptions = {
      reason: values.reason,
      instance: instanceId('instance', values.instance),
      queue: oneOf('queue', values.queue, RETRY_QUEUES),
      dryRun: values['dry-run'] ?? false,
      graceMinutes: positiveInt('grace-minutes', values['grace-minutes']) ?? DEFAULT_GRACE_MINUTES,
    };
    return async (deps) => {
      const result = await retryFailed(deps, opts);
      deps.out.write(formatRetry(result, opts));
      return EXIT.ok;
    };
  },
};
