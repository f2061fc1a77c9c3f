import type { Writable } from 'node:stream';

export type ProgressState = {
  done: number;
  /** Known so far; `final` once nothing more can be added (e.g. the listing ended). */
  total?: number;
  final?: boolean;
  /** Extra text after the counts, e.g. bytes hashed. */
  note?: string;
};

export type Progress = { update(state: ProgressState): void; finish(): void };

export type ProgressOptions = {
  /** Default: the stream's own `isTTY`. */
  tty?: boolean;
  now?: () => number;
  /** How often a line is written: redraws on a terminal, log lines otherwise. */
  intervalMs?: number;
};

const BAR_WIDTH = 24;

/**
 * On a terminal, one line redrawn in place with `\r`; otherwise (CI, a log file) a plain line
 * every few seconds, so the output stays readable. Always ends with the final state.
 */
export function createProgress(
  stream: Writable,
  label: string,
  opts: ProgressOptions = {},
): Progress {
  const tty = opts.tty ?? (stream as Writable & { isTTY?: boolean }).isTTY === true;
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? (tty ? 100 : 5000);
  let last: ProgressState = { done: 0 };
  let lastWrite = now();
  let drawn = false;

  function write(final: boolean) {
    const line = renderProgress(label, last);
    if (tty) stream.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else stream.write(`${line}\n`);
    drawn = true;
    lastWrite = now();
  }

  return {
    update(state) {
      last = state;
      if (now() - lastWrite >= interval) write(false);
    },
    finish() {
      if (drawn || last.done > 0) write(true);
    },
  };
}

export function renderProgress(label: string, s: ProgressState): string {
  const note = s.note ? `  ${s.note}` : '';
  if (s.total === undefined) return `${label}: ${s.done}${note}`;
  if (!s.final) return `${label}: ${s.done} of ${s.total}+ (still listing)${note}`;
  const ratio = s.total === 0 ? 1 : Math.min(1, s.done / s.total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  return `${label} ${bar} ${String(Math.floor(ratio * 100)).padStart(3)}% ${s.done}/${s.total}${note}`;
}
