const DAY_MS = 86_400_000;
/** BullMQ priorities run from 1 (first) to 2^21 - 1. */
const MAX_PRIORITY = 2 ** 21 - 1;
/** 5-minute steps from 2025-01-01 span about 20 years of deadlines within that range. */
const PRIORITY_EPOCH_MS = Date.UTC(2025, 0, 1);
const PRIORITY_STEP_MS = 5 * 60_000;

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

/**
 * Exponential backoff with jitter on top, capped, and never past the deadline: the last
 * attempt lands at the deadline at the latest, where the job ends as expired if it fails.
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
  return Math.max(0, Math.min(withJitter, opts.deadlineMs - now));
}

/** How long the dedupe marker of a finished job must live: past the deadline plus a day. */
export function markerTtlSeconds(deadlineMs: number, now = Date.now()): number {
  return Math.max(DAY_MS, deadlineMs + DAY_MS - now) / 1000;
}
