import type { Sidecar } from '@archiver/core';
import type { DemoCase } from './demo-cases.js';
import { shortPath } from './settings.js';
import type { DevState } from './state.js';

/** How one demo message ended, judged against its expectation. */
export type Outcome = {
  demo: DemoCase;
  ok: boolean;
  /** The result column, e.g. "archived  61.2 KB  sha256 ok  1 attempt". */
  result: string;
  sidecar?: Sidecar;
  sidecarKey: string;
};

export type DuplicateOutcome = { ok: boolean; result: string };

export type Judged = { expectedSize?: number; expectedSha256?: string; storedSha256?: string };

export function judge(
  demo: DemoCase,
  sidecarKey: string,
  sidecar: Sidecar | undefined,
  facts: Judged,
): Outcome {
  const base = { demo, sidecar, sidecarKey };
  if (!sidecar) return { ...base, ok: false, result: 'MISSING: no record (message.json) yet' };
  const attempts = `${sidecar.attempts} attempt${sidecar.attempts === 1 ? '' : 's'}`.padEnd(10);
  const why = `${sidecar.reason?.code ?? sidecar.status} (${shorten(sidecar.reason?.error ?? '', 80)})`;
  if (demo.expect === 'no_file') {
    const ok = sidecar.status === 'permanent_failure' && sidecar.reason?.code === 'no_file';
    return {
      ...base,
      ok,
      result: ok ? `not archived: ${why}, as expected` : `UNEXPECTED ${sidecar.status}: ${why}`,
    };
  }
  if (sidecar.status !== 'archived') return { ...base, ok: false, result: `NOT ARCHIVED: ${why}` };
  const problems = [
    sidecar.size !== facts.expectedSize && `size ${sidecar.size} ≠ ${facts.expectedSize}`,
    sidecar.sha256 !== facts.expectedSha256 && 'sidecar sha256 ≠ the simulator’s',
    facts.storedSha256 !== facts.expectedSha256 && 'stored bytes differ',
    demo.faults && sidecar.attempts < 2 && 'expected a retry',
  ].filter((p): p is string => typeof p === 'string');
  const summary = `archived  ${formatBytes(sidecar.size ?? 0).padStart(8)}  ${attempts}`;
  return problems.length === 0
    ? { ...base, ok: true, result: `${summary}  sha256 ok` }
    : { ...base, ok: false, result: `${summary}  WRONG: ${problems.join(', ')}` };
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const fileLabel = (demo: DemoCase) => demo.typeMessage.replace(/Message$/, '');

/** The table, where each file landed, and the verdict; returns the exit code. */
export function printReport(r: {
  state: DevState;
  outcomes: Outcome[];
  duplicate: DuplicateOutcome;
  webhooksOk: boolean;
  /** The conversation around the files: how many of its records landed, where to read it. */
  conversation: { recorded: number; total: number; review?: { chat: string; day: string } };
  out: (line?: string) => void;
}): number {
  const { state, outcomes, out } = r;
  const first = outcomes[0]?.demo;
  out();
  out(
    table([
      ['#', 'kind', 'file', 'message', 'result'],
      ...outcomes.map((o, i) => [
        `${i + 1}`,
        o.demo.kind,
        fileLabel(o.demo),
        o.demo.story,
        o.result,
      ]),
      [
        '1',
        first?.kind ?? '',
        first ? fileLabel(first) : '',
        'same webhook again',
        r.duplicate.result,
      ],
    ]),
  );
  out();
  const disk = `${shortPath(state.s3.dataDir)}/${state.s3.bucket}/`;
  out(`Where: bucket ${state.s3.bucket} on ${state.s3.endpoint}, on disk under ${disk}`);
  out(
    table(outcomes.map((o, i) => [`${i + 1}`, o.sidecar?.key ?? `${o.sidecarKey}  (record only)`])),
  );
  out();
  const c = r.conversation;
  out(
    `Conversation: ${c.recorded} of ${c.total} messages recorded (texts, an edit, a deletion, a reaction, a reply)`,
  );
  if (c.review) {
    out(`Review page (user ${state.review.user}, password ${state.review.password}):`);
    out(`  ${c.review.day}   the day: the conversation beside the files`);
    out(`  ${c.review.chat}   the chat: its days, search, export`);
  }
  out();
  return verdict(
    outcomes,
    {
      duplicate: r.duplicate.ok,
      webhooks: r.webhooksOk,
      conversation: c.recorded === c.total,
    },
    out,
  );
}

function verdict(
  outcomes: Outcome[],
  ok: { duplicate: boolean; webhooks: boolean; conversation: boolean },
  out: (line: string) => void,
): number {
  const files = outcomes.filter((o) => o.demo.expect === 'archived');
  const records = outcomes.filter((o) => o.demo.expect !== 'archived');
  const failed = outcomes.filter((o) => !o.ok);
  const line =
    `${files.filter((o) => o.ok).length} of ${files.length} files archived byte-exact; ` +
    `${records.filter((o) => o.ok).length} of ${records.length} recorded as not archivable, ` +
    `as expected; duplicate ${ok.duplicate ? 'recognised' : 'NOT handled'}` +
    `${ok.webhooks ? '' : '; some webhooks were NOT answered 200'}` +
    `${ok.conversation ? '' : '; the conversation was NOT recorded in full'}.`;
  if (failed.length === 0 && ok.duplicate && ok.webhooks && ok.conversation) {
    out(`OK: ${line}`);
    return 0;
  }
  out(`FAILED: ${line}`);
  for (const o of failed) {
    out(
      `  #${outcomes.indexOf(o) + 1} ${o.demo.kind} ${fileLabel(o.demo)} (${o.demo.idMessage}): ${o.result}`,
    );
  }
  out('  The worker log in the `npm run dev` terminal says why; the dashboard lists failed jobs.');
  return 1;
}
