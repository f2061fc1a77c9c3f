import type { Sidecar } from '@archiver/core';
import { HELP_OPTION, instanceId, oneOf, parseCommandArgs, required } from '../args.js';
import { csvLine } from '../csv.js';
import { dayRange, inDayRange, parseDay, utcDay } from '../dates.js';
import { s3Of, type CliDeps } from '../deps.js';
import { forEachLimit, readAhead } from '@archiver/core';
import { createProgress } from '../progress.js';
import { listSidecars, readSidecar, type SidecarKey } from '../sidecars.js';
import { EXIT, writeJson, type Command } from './command.js';

export type ReportOptions = { since: string; until: string; instance?: string };

/** One chat, one instance's subtotal, or the grand total. */
export type ReportRow = {
  scope: 'chat' | 'instance' | 'total';
  idInstance: string;
  kind: string;
  chatId: string;
  /** Every message kept (each `message.json`): with a file or not, whatever became of it. */
  messages: number;
  /** typeMessage → count of those messages (textMessage, editedMessage, imageMessage …). */
  messageTypes: Record<string, number>;
  archivedFiles: number;
  archivedBytes: number;
  permanentFailures: number;
  /** reason code → count */
  failureReasons: Record<string, number>;
  expired: number;
};

export type Report = { rows: ReportRow[]; unreadable: Array<{ key: string; error: string }> };

const CONCURRENCY = 16;
const LIST_AHEAD = 50_000;

/**
 * What was archived, and what could not be and why, per instance and chat, for messages
 * whose UTC day is within [since, until]. Sidecars are listed under the prefix (or one
 * instance); the date folders skip other days without reading them, the sidecar's
 * timestamp decides.
 */
export async function buildReport(deps: CliDeps, opts: ReportOptions): Promise<Report> {
  const { bucket, prefix } = s3Of(deps.config);
  const chats = new Map<string, ReportRow>();
  const unreadable: Report['unreadable'] = [];
  const progress = createProgress(deps.err, 'reading sidecars');
  let read = 0;

  async function* inRange(): AsyncGenerator<SidecarKey> {
    for await (const ref of listSidecars(deps.s3, bucket, prefix, opts.instance)) {
      if (inDayRange(ref.day, opts)) yield ref;
    }
  }
  const listing = readAhead(inRange(), LIST_AHEAD);

  await forEachLimit(listing.items, CONCURRENCY, async (ref) => {
    const result = await readSidecar(deps.s3, bucket, ref.key);
    if (!result.ok) unreadable.push({ key: ref.key, error: result.error });
    else if (inDayRange(utcDay(result.sidecar.timestamp), opts)) add(chats, result.sidecar);
    progress.update({ done: (read += 1), total: listing.seen(), final: listing.exhausted() });
  });
  progress.finish();
  unreadable.sort((a, b) => a.key.localeCompare(b.key));
  return { rows: withTotals([...chats.values()]), unreadable };
}

function add(chats: Map<string, ReportRow>, s: Sidecar) {
  const id = `${s.idInstance}\n${s.chatId}`;
  let row = chats.get(id);
  if (!row) {
    row = emptyRow('chat', s.idInstance, s.kind, s.chatId);
    chats.set(id, row);
  }
  row.messages += 1;
  row.messageTypes[s.typeMessage] = (row.messageTypes[s.typeMessage] ?? 0) + 1;
  switch (s.status) {
    case 'archived':
      row.archivedFiles += 1;
      row.archivedBytes += s.size ?? 0;
      break;
    case 'permanent_failure': {
      row.permanentFailures += 1;
      const code = s.reason?.code ?? 'unknown';
      row.failureReasons[code] = (row.failureReasons[code] ?? 0) + 1;
      break;
    }
    case 'expired':
      row.expired += 1;
      break;
  }
}

function emptyRow(
  scope: ReportRow['scope'],
  idInstance: string,
  kind: string,
  chatId: string,
): ReportRow {
  return {
    scope,
    idInstance,
    kind,
    chatId,
    messages: 0,
    messageTypes: {},
    archivedFiles: 0,
    archivedBytes: 0,
    permanentFailures: 0,
    failureReasons: {},
    expired: 0,
  };
}

function addInto(target: ReportRow, row: ReportRow) {
  target.messages += row.messages;
  for (const [type, n] of Object.entries(row.messageTypes)) {
    target.messageTypes[type] = (target.messageTypes[type] ?? 0) + n;
  }
  target.archivedFiles += row.archivedFiles;
  target.archivedBytes += row.archivedBytes;
  target.permanentFailures += row.permanentFailures;
  target.expired += row.expired;
  for (const [code, n] of Object.entries(row.failureReasons)) {
    target.failureReasons[code] = (target.failureReasons[code] ?? 0) + n;
  }
}

/** Chats sorted by instance and chat, each instance followed by its subtotal, then the total. */
export function withTotals(chatRows: ReportRow[]): ReportRow[] {
  const byNumber = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  const sorted = [...chatRows].sort(
    (a, b) => byNumber(a.idInstance, b.idInstance) || byNumber(a.chatId, b.chatId),
  );
  const out: ReportRow[] = [];
  const total = emptyRow('total', '', '', '');
  let current: ReportRow | undefined;
  for (const row of sorted) {
    if (current?.idInstance !== row.idInstance) {
      if (current) out.push(current);
      current = emptyRow('instance', row.idInstance, row.kind, '');
    }
    out.push(row);
    addInto(current, row);
    addInto(total, row);
  }
  if (current) out.push(current);
  out.push(total);
  return out;
}

export const CSV_HEADER = [
  'scope',
  'idInstance',
  'kind',
  'chatId',
  'messages',
  'messageTypes',
  'archivedFiles',
  'archivedBytes',
  'permanentFailures',
  'failureReasons',
  'expired',
] as const;

/** Counts as `name=count` pairs joined by `;`, names in order (failure reasons, message types). */
export function formatReasons(reasons: Record<string, number>): string {
  return Object.keys(reasons)
    .sort()
    .map((code) => `${code}=${reasons[code]}`)
    .join(';');
}

export function reportCsv(rows: ReportRow[]): string {
  return (
    csvLine(CSV_HEADER) +
    rows
      .map((r) =>
        csvLine([
          r.scope,
          r.idInstance,
          r.kind,
          r.chatId,
          r.messages,
          formatReasons(r.messageTypes),
          r.archivedFiles,
          r.archivedBytes,
          r.permanentFailures,
          formatReasons(r.failureReasons),
          r.expired,
        ]),
      )
      .join('')
  );
}

const HELP = `Usage: archiver report --since YYYY-MM-DD --until YYYY-MM-DD [--format csv|json] [--instance ID]

What was archived, and what could not be and why, per instance and chat, from the sidecars
of messages whose timestamp falls on a UTC day within [since, until] (both inclusive).

Rows: one per chat (scope "chat"), a subtotal per instance (scope "instance") and a grand
total (scope "total"). Columns: ${CSV_HEADER.join(', ')}.
messages: every message kept (with a file or not); messageTypes: typeMessage → count
("textMessage=3;editedMessage=1;imageMessage=2" in CSV).
failureReasons: reason code → count of permanent failures ("no_file=2;too_large=1" in CSV).
Exit code 1 when some sidecars could not be read (listed on stderr): the report is incomplete.

Options:
  --since DATE       first UTC day (inclusive), required
  --until DATE       last UTC day (inclusive), required
  --format FORMAT    csv (default) or json (an array of rows)
  --instance ID      only this idInstance
  -h, --help         this help
`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'archived files, bytes and failures per instance and chat for a date range',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      since: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string' },
      instance: { type: 'string' },
    });
    if (values.help) return 'help';
    const since = required('since', parseDay('since', values.since));
    const until = required('until', parseDay('until', values.until));
    dayRange(since, until);
    const opts: ReportOptions = { since, until, instance: instanceId('instance', values.instance) };
    const format = oneOf('format', values.format, ['csv', 'json'] as const) ?? 'csv';
    return async (deps) => {
      const report = await buildReport(deps, opts);
      if (format === 'json') writeJson(deps, report.rows);
      else deps.out.write(reportCsv(report.rows));
      for (const u of report.unreadable) {
        deps.err.write(`unreadable sidecar ${u.key}: ${u.error}\n`);
      }
      if (report.unreadable.length > 0) {
        deps.err.write(
          `${report.unreadable.length} sidecars could not be read: the report is incomplete\n`,
        );
        return EXIT.findings;
      }
      return EXIT.ok;
    };
  },
};
