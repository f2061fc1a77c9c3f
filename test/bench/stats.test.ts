import { describe, expect, it } from 'vitest';
import { listRatios, median, roundRatios } from '../../bench/src/lib/stats.js';

describe('roundRatios', () => {
  it("gives each round's own ratio, and their median ignores one round's outlier", () => {
    // The machine runs at half speed in the last three rounds; in every round but one the
    // archiver does 0.9× the baseline, and one round's outlier does not move the median.
    const baseline = [100, 100, 50, 50, 50];
    const archiver = [90, 40, 45, 45, 45];
    expect(roundRatios(archiver, baseline)).toEqual([0.9, 0.4, 0.9, 0.9, 0.9]);
    expect(median(roundRatios(archiver, baseline))).toBeCloseTo(0.9);
  });

  it("compares each round with itself, where each side's median apart would not", () => {
    // Slow first three rounds: 0.9× in each, but the medians apart pick a slow-phase archiver
    // and a fast-phase baseline.
    const baseline = [50, 50, 50, 100, 100];
    const archiver = [45, 45, 45, 90, 90];
    expect(median(roundRatios(archiver, baseline))).toBeCloseTo(0.9);
    expect(median(archiver) / median([100, 100, 100, 50, 50])).toBeCloseTo(0.45);
  });

  it('refuses rounds that do not pair up', () => {
    expect(() => roundRatios([1, 2], [1])).toThrow('rounds do not pair up');
  });
});

describe('listRatios', () => {
  it('lists ratios rounded to two places, in round order', () => {
    expect(listRatios([0.9, 1.0549, 2 / 3])).toBe('0.9, 1.05, 0.67');
  });
});
