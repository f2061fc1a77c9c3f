import { describe, expect, it } from 'vitest';
import { dayRange, inDayRange, parseDay, utcDay } from './dates.js';

describe('parseDay', () => {
  it('accepts real calendar days', () => {
    expect(parseDay('since', '2025-03-01')).toBe('2025-03-01');
    expect(parseDay('since', '2024-02-29')).toBe('2024-02-29');
    expect(parseDay('since', undefined)).toBeUndefined();
  });

  it('refuses other shapes and impossible days', () => {
    for (const bad of [
      '2025-02-30',
      '2025-02-29',
      '2025-13-01',
      '2025-3-1',
      '01.03.2025',
      '2025-03-01T00:00:00Z',
      '',
    ]) {
      expect(() => parseDay('since', bad), bad).toThrow(/--since/);
    }
  });
});

describe('utcDay', () => {
  it('is the UTC date of a UNIX-seconds timestamp, as the S3 date folders', () => {
    expect(utcDay(Date.UTC(2025, 2, 1, 0, 0, 0) / 1000)).toBe('2025-03-01');
    expect(utcDay(Date.UTC(2025, 2, 1, 23, 59, 59) / 1000)).toBe('2025-03-01');
    expect(utcDay(Date.UTC(2025, 2, 2, 0, 0, 0) / 1000)).toBe('2025-03-02');
    expect(utcDay(0)).toBe('1970-01-01');
  });

  it('is undefined for a timestamp no Date can hold', () => {
    expect(utcDay(1e20)).toBeUndefined();
  });
});

describe('day ranges', () => {
  it('are inclusive at both ends', () => {
    const range = dayRange('2025-03-01', '2025-03-03');
    expect(inDayRange('2025-02-28', range)).toBe(false);
    expect(inDayRange('2025-03-01', range)).toBe(true);
    expect(inDayRange('2025-03-02', range)).toBe(true);
    expect(inDayRange('2025-03-03', range)).toBe(true);
    expect(inDayRange('2025-03-04', range)).toBe(false);
  });

  it('may be open at either end, and a single day', () => {
    expect(inDayRange('1999-01-01', dayRange(undefined, '2025-01-01'))).toBe(true);
    expect(inDayRange('2099-01-01', dayRange('2025-01-01', undefined))).toBe(true);
    expect(inDayRange('2025-01-01', dayRange('2025-01-01', '2025-01-01'))).toBe(true);
    expect(inDayRange(undefined, {})).toBe(true);
    expect(inDayRange(undefined, { since: '2025-01-01' })).toBe(false);
  });

  it('refuses since after until', () => {
    expect(() => dayRange('2025-03-02', '2025-03-01')).toThrow(/after/);
  });
});
