import { ARCHIVE_QUEUE, RECORD_QUEUE, createQuarantine, oldestDeadlineMs } from '@archiver/core';
import { HELP_OPTION, parseCommandArgs } from '../args.js';
import { keysOf, type CliDeps } from '../deps.js';
import { scanFailedJobs } from '../failed-jobs.js';
import { instanceOfJobId } from '../failed-reason.js';
import { formatDuration, formatTable, plural, sortedCounts } from '../format.js';
import { EXIT, writeJson, type Command } from './command.js';

export const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'failed',
  'completed',
] as const;
/** The states a job id is counted per instance in: the backlog, and what needs an operator. */
export const INSTANCE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

type QueueState = (typeof QUEUE_STATES)[number];
type InstanceState = (typeof INSTANCE_STATES)[number];

export type StatusReport = {
  paused: boolean;
  counts: Record<QueueState, number>;
  /** idInstance → jobs per state; ids that name no instance are counted under `unknown`. */
  instances: Record<string, Record<InstanceState, number>>;
  /** The SLO: the nearest deadline among unfinished jobs; null when nothing waits. */
  oldestDeadline: { at: string; secondsToExpiry: number } | null;
  quarantine: number;
  /** Failed jobs by the reason code of their failedReason (`unknown` when it has none). */
  failedByReason: Record<string, number>;
  /**
   * The records queue (texts, edits, statuses, calls): only its failed jobs, which nothing
   * retries but `archiver retry-failed`; the rest of it drains in seconds.
   */
  records: { failed: number };
};

const PAGE = 5000;

export async function collectStatus(deps: CliDeps, now = Date.now()): Promise<StatusReport> {
  const keys = keysOf(deps.config);
  const raw = await deps.queue.getJobCounts(...QUEUE_STATES);
  const counts = Object.fromEntries(QUEUE_STATES.map((s) => [s, raw[s] ?? 0])) as Record<
    QueueState,
    number
  >;
  const instances: StatusReport['instances'] = {};
  for (const state of INSTANCE_STATES) {
    for (let start = 0; ; start += PAGE) {
      const ids = await deps.queue.getRanges([state], start, start + PAGE - 1);
      for (const id of ids) {
        const row = (instances[instanceOfJobId(id) ?? 'unknown'] ??= emptyRow());
        row[state] += 1;
      }
      if (ids.length < PAGE) break;
    }
  }
  const failedByReason: Record<string, number> = {};
  for await (const { reason } of scanFailedJobs(deps.queue, deps.redis)) {
    failedByReason[reason.code] = (failedByReason[reason.code] ?? 0) + 1;
  }
  // Also drops a head entry whose job no longer exists, as the metrics gauge does.
  const deadline = await oldestDeadlineMs(deps.redis, keys);
  return {
    paused: await deps.queue.isPaused(),
    counts,
    instances,
    oldestDeadline:
      deadline === null
        ? null
        : {
            at: new Date(deadline).toISOString(),
            secondsToExpiry: Math.round((deadline - now) / 1000),
          },
    quarantine: await createQuarantine(deps.redis, keys, deps.config.quarantineMax).size(),
    failedByReason,
    records: { failed: await deps.recordQueue.getFailedCount() },
  };
}

function emptyRow(): Record<InstanceState, number> {
  return { waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 };
}

export function formatStatus(s: StatusReport, queuePrefix: string): string {
  const lines = [
    `Queue ${queuePrefix}:${ARCHIVE_QUEUE}${s.paused ? '  (PAUSED)' : ''}`,
    formatTable(QUEUE_STATES.map((state) => [state, s.counts[state]])),
  ];
  const ids = Object.keys(s.instances).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  lines.push('', 'Per instance:');
  lines.push(
    ids.length === 0
      ? '  (no unfinished or failed jobs)'
      : formatTable([
          ['instance', ...INSTANCE_STATES],
          ...ids.map((id) => [id, ...INSTANCE_STATES.map((st) => s.instances[id]?.[st] ?? 0)]),
        ]),
  );
  const d = s.oldestDeadline;
  lines.push(
    '',
    d === null
      ? 'Oldest deadline: none (nothing waits)'
      : `Oldest deadline: ${d.at} (${d.secondsToExpiry >= 0 ? `expires in ${formatDuration(d.secondsToExpiry * 1000)}` : `PASSED ${formatDuration(-d.secondsToExpiry * 1000)} ago`})`,
  );
  lines.push(`Quarantine: ${plural(s.quarantine, 'body', 'bodies')}`);
  lines.push(`Queue ${queuePrefix}:${RECORD_QUEUE}: ${s.records.failed} failed`);
  const reasons = sortedCounts(s.failedByReason);
  lines.push('', 'Failed by reason:', reasons.length === 0 ? '  (none)' : formatTable(reasons));
  return `${lines.join('\n')}\n`;
}

const HELP = `Usage: archiver status [--json]

Archive queue counts per BullMQ state, per instance (unfinished and failed jobs), the
nearest deadline among unfinished jobs (the SLO), the quarantine size, the records queue's
failed jobs and the archive queue's failed jobs by reason code.

Options:
  --json      machine-readable output
  -h, --help  this help
`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'queue counts, per-instance backlog, oldest deadline, quarantine, failures by reason',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, { ...HELP_OPTION, json: { type: 'boolean' } });
    if (values.help) return 'help';
    return async (deps) => {
      const status = await collectStatus(deps);
      if (values.json) writeJson(deps, status);
      else deps.out.write(formatStatus(status, deps.config.queuePrefix));
      return EXIT.ok;
    };
  },
};
