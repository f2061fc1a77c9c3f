import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatTable, sortedCounts } from './format.js';

describe('format', () => {
  it('bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });

  it('durations: two largest units, signed', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5000)).toBe('3d 4h');
    expect(formatDuration(-(2 * 3_600_000 + 5 * 60_000))).toBe('-2h 5m');
  });

  it('tables align columns and right-align numbers', () => {
    expect(
      formatTable(
        [
          ['a', 1],
          ['bbb', 100],
        ],
        '',
      ),
    ).toBe('a      1\nbbb  100');
  });

  it('sorts counts biggest first', () => {
    expect(sortedCounts({ b: 1, a: 1, c: 5 })).toEqual([
      ['c', 5],
      ['a', 1],
      ['b', 1],
    ]);
  });
});
