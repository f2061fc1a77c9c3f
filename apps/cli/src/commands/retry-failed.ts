import {
  effectiveDeadline,
  indexJob,
  instanceMap,
  forEachLimit,
  jobIdentityOf,
  readArchiveJob,
  retentionResolver,
  unindexJob,
  type ArchiveJobData,
} from '@archiver/core';
import { HELP_OPTION, instanceId, parseCommandArgs, positiveInt, UsageError } from '../args.js';
import { keysOf, type CliDeps } from '../deps.js';
import { scanFailedJobs, type FailedJobRef } from '../failed-jobs.js';
import { reasonMatches } from '../failed-reason.js';
import { formatTable, plural } from '../format.js';
import { createProgress } from '../progress.js';
import { EXIT, type Command } from './command.js';

export type RetryOptions = {
  reason?: string;
  instance?: string;
  dryRun: boolean;
  graceMinutes: number;
};

export type RetryResult = {
  selected: FailedJobRef[];
  requeued: string[];
  /** Jobs selected but left alone: gone or no longer failed by the time they were reached. */
  skipped: Array<{ jobId: string; why: string }>;
  graceUntil: number;
};

const DEFAULT_GRACE_MINUTES = 60;
const CONCURRENCY = 16;
const LISTED = 20;

/**
 * Selects failed jobs (all, or by reason and/or instance) and re-queues exactly those. Each
 * gets `graceUntil` = now + grace, so a job past its deadline gets a real attempt, and is put
 * back in the deadlines index (the SLO gauge's source) at its effective deadline before it
 * can run. The selection is listed first and acted on after, so a job that fails again
 * while the command runs is not picked up twice.
 */
export async function retryFailed(
  deps: CliDeps,
  opts: RetryOptions,
  now = Date.now(),
): Promise<RetryResult> {
  const selected: FailedJobRef[] = [];
  for await (const ref of scanFailedJobs(deps.queue, deps.redis, { instance: opts.instance })) {
    if (reasonMatches(ref.reason, opts.reason)) selected.push(ref);
  }
  const graceUntil = now + opts.graceMinutes * 60_000;
  const result: RetryResult = { selected, requeued: [], skipped: [], graceUntil };
  if (opts.dryRun || selected.length === 0) return result;

  const retention = retentionResolver(
    instanceMap(deps.config.instances),
    deps.config.retentionDays,
  );
  const progress = createProgress(deps.err, 're-queueing');
  let done = 0;
  await forEachLimit(selected, CONCURRENCY, async ({ jobId }) => {
    const why = await requeue(deps, jobId, graceUntil, retention);
    if (why === undefined) result.requeued.push(jobId);
    else result.skipped.push({ jobId, why });
    progress.update({ done: (done += 1), total: selected.length, final: true });
  });
  progress.finish();
  return result;
}

/** Re-queues one failed job; returns why not when it is not (or no longer) failed. */
async function requeue(
  deps: CliDeps,
  jobId: string,
  graceUntil: number,
  retention: (job: { idInstance: string }) => number,
): Promise<string | undefined> {
  const keys = keysOf(deps.config);
  const job = await deps.queue.getJob(jobId);
  if (!job) return 'job no longer exists';
  const state = await job.getState();
  if (state !== 'failed') return `job is ${state} now`;
  // Spread as stored: a job whose data fails the schema is re-queued as it is (the worker
  // records it as invalid_job again), with the grace added.
  // A fresh wait for an instance not configured: the operator may just have added it back.
  const { unknownSince: _waited, ...kept } = job.data;
  const data: ArchiveJobData = { ...kept, graceUntil };
  const read = readArchiveJob(data);
  const deadline = read.ok ? effectiveDeadline(read.data, retention(read.data)) : graceUntil;
  // Before the job can run: a worker that finishes it removes the entry again. With its
  // identity, so the lost-job sweep can record it should it vanish before it ends.
  const identity = read.ok ? jobIdentityOf(read.data, Date.now()) : undefined;
  await indexJob(deps.redis, keys, jobId, deadline, identity);
  await job.updateData(data);
  try {
    // Fresh backoff within the grace window: the old count would start at the cap.
    await job.retry('failed', { resetAttemptsMade: true });
  } catch (err) {
    await unindexJob(deps.redis, keys, jobId);
    return `not re-queued: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

export function formatRetry(r: RetryResult, opts: RetryOptions): string {
  const filters = [
    opts.reason && `reason ${opts.reason}`,
    opts.instance && `instance ${opts.instance}`,
  ]
    .filter(Boolean)
    .join(', ');
  const what = `${plural(r.selected.length, 'failed job')}${filters ? ` (${filters})` : ''}`;
  const lines: string[] = [];
  if (r.selected.length === 0) return `No failed jobs match${filters ? ` (${filters})` : ''}.\n`;
  lines.push(
    opts.dryRun
      ? `Dry run: would re-queue ${what}, grace until ${new Date(r.graceUntil).toISOString()}`
      : `Selected ${what}`,
  );
  const groups = new Map<string, number>();
  for (const ref of r.selected) {
    const key = `${ref.idInstance ?? 'unknown'}\t${ref.reason.outcome}: ${ref.reason.code}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const rows = [...groups.entries()]
    .sort()
    .map(([key, count]) => [...key.split('\t'), count] as [string, string, number]);
  lines.push(formatTable([['instance', 'reason', 'jobs'], ...rows]));
  const shown = r.selected
    .slice(0, LISTED)
    .map((ref) => `  ${ref.jobId}  ${ref.reason.outcome}: ${ref.reason.code}`);
  lines.push('Jobs:', ...shown);
  if (r.selected.length > LISTED) lines.push(`  … and ${r.selected.length - LISTED} more`);
  if (!opts.dryRun) {
    lines.push(
      `Re-queued ${r.requeued.length}, grace until ${new Date(r.graceUntil).toISOString()}`,
    );
    if (r.skipped.length > 0) {
      lines.push(`Skipped ${r.skipped.length}:`, ...r.skipped.map((s) => `  ${s.jobId}  ${s.why}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

const HELP = `Usage: archiver retry-failed [--reason CODE] [--instance ID] [--dry-run] [--grace-minutes N]

Re-queues failed archive jobs: all of them, or those matching the filters. Each job may run
for the grace period even past its deadline (Green-API may still hold the file), and
rewrites its sidecar with the new outcome.

Options:
  --reason CODE        a reason code (no_file, too_large, bad_request,
                       download_host_not_allowed, invalid_job, deadline_passed, unknown)
                       or an outcome (permanent_failure, expired)
  --instance ID        only jobs of this idInstance
  --dry-run            list what would be re-queued; change nothing
  --grace-minutes N    how long past its deadline a job may run (default ${DEFAULT_GRACE_MINUTES})
  -h, --help           this help
`;

export const retryFailedCommand: Command = {
  name: 'retry-failed',
  summary: 're-queue failed jobs (filter by --reason / --instance; --dry-run)',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      reason: { type: 'string' },
      instance: { type: 'string' },
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
