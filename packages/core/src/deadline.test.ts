import { describe, expect, it } from 'vitest';
import {
  deadlineOf,
  effectiveDeadline,
  implausibleTimestamp,
  lastChanceAt,
  priorityOf,
  retentionDaysOf,
  retryDelay,
} from './deadline.js';

const DAY = 86_400_000;

describe('deadlines and priorities', () => {
  it('puts the deadline retention days after the message', () => {
    expect(deadlineOf(1_700_000_000, 15)).toBe(1_700_000_000_000 + 15 * DAY);
    expect(effectiveDeadline({ timestamp: 1_700_000_000, graceUntil: 1_800_000_000_000 }, 15)).toBe(
      1_800_000_000_000,
    );
  });

  it("takes the instance's own retention window, else the default", () => {
    expect(retentionDaysOf({ retentionDays: 30 }, 15)).toBe(30);
    expect(retentionDaysOf({}, 15)).toBe(15);
    expect(retentionDaysOf(undefined, 15)).toBe(15);
  });

  it('serves the nearer deadline first, within BullMQ bounds', () => {
    const now = Date.UTC(2026, 10, 27);
    expect(priorityOf(now + DAY)).toBeLessThan(priorityOf(now + 2 * DAY));
    expect(priorityOf(0)).toBe(1);
    expect(priorityOf(Date.UTC(2100, 0, 1))).toBe(2 ** 21 - 1);
  });
});

describe('retryDelay', () => {
  const now = 1_000_000;
  const opts = { baseDelayMs: 5000, maxDelayMs: 3_600_000, deadlineMs: now + 30 * DAY, now };

  it('doubles from the base delay with up to 20 % jitter on top, capped', () => {
    expect(retryDelay(1, { ...opts, random: () => 0 })).toBe(5000);
    expect(retryDelay(2, { ...opts, random: () => 0 })).toBe(10_000);
    expect(retryDelay(4, { ...opts, random: () => 1 })).toBe(48_000);
    expect(retryDelay(30, { ...opts, random: () => 0 })).toBe(3_600_000);
    expect(retryDelay(1000, { ...opts, random: () => 0.5 })).toBe(3_960_000);
  });

  it('never schedules past the last chance before the deadline', () => {
    // Halfway when the deadline is near, a minute before it when far.
    expect(retryDelay(30, { ...opts, deadlineMs: now + 1234, random: () => 0 })).toBe(617);
    expect(retryDelay(30, { ...opts, deadlineMs: now + 600_000, random: () => 0 })).toBe(540_000);
    expect(retryDelay(3, { ...opts, deadlineMs: now - 5 })).toBe(0);
  });
});

describe('lastChanceAt', () => {
  it('leaves a minute before a far deadline, half the time before a near one', () => {
    expect(lastChanceAt(10 * 60_000, 0)).toBe(9 * 60_000);
    expect(lastChanceAt(10_000, 0)).toBe(5000);
    expect(lastChanceAt(-5, 0)).toBe(-5);
  });
});

describe('implausibleTimestamp', () => {
  const receivedAt = Date.UTC(2026, 0, 1);
  it('accepts a message time up to a day after receipt, refuses later ones and non-dates', () => {
    expect(implausibleTimestamp({ timestamp: receivedAt / 1000 - 86_400, receivedAt })).toBe(
      undefined,
    );
    expect(implausibleTimestamp({ timestamp: receivedAt / 1000 + 3600, receivedAt })).toBe(
      undefined,
    );
    expect(implausibleTimestamp({ timestamp: receivedAt / 1000 + 2 * 86_400, receivedAt })).toMatch(
      /48 h after/,
    );
    expect(implausibleTimestamp({ timestamp: 9e12, receivedAt })).toMatch(/not a date/);
  });
});
