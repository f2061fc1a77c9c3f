import type { BenchRow } from './result.js';

/** A plain-text table (also valid Markdown) of the benchmark rows. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['benchmark', 'metric', 'archiver', 'baseline', 'ratio', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    `${fmt(r.archiver)} ${r.unit}`,
    `${fmt(r.baseline)} ${r.unit}`,
    `${fmt(r.ratio)}×`,
    r.target,
    r.target === 'info' ? '—' : r.pass ? 'PASS' : 'MISS',
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const notes = rows
    .filter((r) => r.note)
    .map((r) => `- ${r.bench} / ${r.metric}: ${r.note ?? ''}`);
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Math.round(value * 100) / 100);
}
