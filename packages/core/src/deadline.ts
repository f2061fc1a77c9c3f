const DAY_MS = 86_400_000;
/** BullMQ priorities run from 1 (first) to 2^21 - 1. */
const MAX_PRIORITY = 2 ** 21 - 1;
/** 5-minute steps from 2025-01-01 span about 20 years of deadlines within that range. */
const PRIORITY_EPOCH_MS = Date.UTC(2025, 0, 1);
const PRIORITY_STEP_MS = 5 * 60_000;

/**
 * The retention rule, the one place it is decided: Green-API keeps a message's file for the
 * instance's own `retentionDays` when it has one (WhatsApp's window is not published, and a
 * tariff may differ), else for RETENTION_DAYS (15 by default). Every deadline comes from it.
 */
export function retentionDaysOf(
  instance: { retentionDays?: number } | undefined,
  defaultDays: number,
): number {
  return instance?.retentionDays ?? defaultDays;
}

/** When Green-API's copy is expected to be gone: message time + retention window. */
export function deadlineOf(timestampSeconds: number, retentionDays: number): number {
  return timestampSeconds * 1000 + retentionDays * DAY_MS;
}

/** The deadline a job actually runs to: its own, or an operator's later grace. */
export function effectiveDeadline(
  data: { timestamp: number; graceUntil?: number },
  retentionDays: number,
): number {
  return Math.max(deadlineOf(data.timestamp, retentionDays), data.graceUntil ?? 0);
}

/**
 * BullMQ priority from the deadline: the job nearest its expiry is served first, so a
 * backlog never loses its oldest files while fresh ones are served (docs/architecture.md §5).
 */
export function priorityOf(deadlineMs: number): number {
  const step = Math.floor((deadlineMs - PRIORITY_EPOCH_MS) / PRIORITY_STEP_MS);
  return Math.min(MAX_PRIORITY, Math.max(1, step));
}

/** How far before its deadline a job's last wake-up is put, at most (see lastChanceAt). */
export const FINAL_ATTEMPT_LEAD_MS = 60_000;
/** Closer to its deadline than this, a job that just failed or was refused ends expired. */
export const DEADLINE_SLACK_MS = 1000;
/**
 * A message timestamp this far past the time the archiver received it makes no sense:
 * Green-API stamps messages with its own clock. Beyond it the job would be parked until a
 * deadline years away (or a date folder that reads `NaN`).
 */
export const MAX_TIMESTAMP_AHEAD_MS = 86_400_000;

/**
 * The latest moment a delay may wake a job so that one more attempt still starts before the
 * deadline: a minute before it, or halfway there when it is closer (a delayed job's wake-up
 * is not exact, and a job that wakes at its deadline would end without an attempt).
 */
export function lastChanceAt(deadlineMs: number, now = Date.now()): number {
  return deadlineMs - Math.max(0, Math.min(FINAL_ATTEMPT_LEAD_MS, (deadlineMs - now) / 2));
}

/**
 * Why a job's message time makes no sense, or undefined: ahead of the time it was received
 * by more than a day, or not a date at all. Such a job is refused, never parked.
 */
export function implausibleTimestamp(data: {
  timestamp: number;
  receivedAt: number;
}): string | undefined {
  const ms = data.timestamp * 1000;
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) {
    return `timestamp ${data.timestamp} is not a date`;
  }
  if (ms - data.receivedAt > MAX_TIMESTAMP_AHEAD_MS) {
    return `timestamp ${data.timestamp} is ${Math.round((ms - data.receivedAt) / 3_600_000)} h after the message was received`;
  }
  return undefined;
}

/**
 * Exponential backoff with jitter on top, capped, and never past the job's last chance:
 * the last retry starts before the deadline (lastChanceAt), where the job ends as expired
 * if it fails.
 */
export function retryDelay(
  attemptsMade: number,
  opts: {
    baseDelayMs: number;
    maxDelayMs: number;
    deadlineMs: number;
    now?: number;
    random?: () => number;
  },
): number {
  const now = opts.now ?? Date.now();
  const random = opts.random ?? Math.random;
  const exponent = Math.max(0, attemptsMade - 1);
  const exponential = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(exponent, 40));
  const withJitter = Math.round(exponential * (1 + 0.2 * random()));
  return Math.max(0, Math.min(withJitter, Math.floor(lastChanceAt(opts.deadlineMs, now) - now)));
}

/** How long the dedupe marker of a finished job must live: past the deadline plus a day. */
export function markerTtlSeconds(deadlineMs: number, now = Date.now()): number {
  return Math.max(DAY_MS, deadlineMs + DAY_MS - now) / 1000;
}
