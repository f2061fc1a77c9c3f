import { DelayedError, type Job } from 'bullmq';
import {
  DEADLINE_SLACK_MS,
  FINAL_ATTEMPT_LEAD_MS,
  sleep,
  type ArchiveJobData,
  type RateLimiter,
} from '@archiver/core';

/** A slot this close is waited for in-process; a later one parks the job in `delayed`. */
const MAX_IN_PROCESS_WAIT_MS = 1500;
/** A parked job wakes this much before its slot, so a late pick-up still makes it. */
const WAKE_LEAD_MS = 500;

export type Slot =
  /** Send now; `admission`: already admitted (pass it to `limiter.admitted`). */
  | { kind: 'go'; admission?: string }
  /** The slot is far: park until `until`, keeping the reservation `slotAt`. */
  | { kind: 'park'; until: number; slotAt: number };

/**
 * Takes the instance's downloadFile slot. When it is far (a backlog on a 1 rps MAX
 * instance), the caller parks the job, keeping the reservation in its data, so the
 * worker's place serves other instances meanwhile. Within its last minute before the
 * deadline a job does not park: it waits for a slot that comes in time, or goes without
 * one (the in-flight budget of `limiter.admitted` still holds), so it gets its attempt.
 */
export async function takeDownloadSlot(args: {
  job: Job<ArchiveJobData>;
  /** The job's instance (read from its kept body: the stored data does not repeat it). */
  idInstance: string;
  limiter: RateLimiter;
  rps: number;
  holdMs: number;
  deadline: number;
  signal?: AbortSignal;
}): Promise<Slot> {
  const { job, limiter } = args;
  const remaining = args.deadline - Date.now();
  const lastMinute = remaining <= FINAL_ATTEMPT_LEAD_MS;
  const slot = await limiter.acquire(args.idInstance, 'downloadFile', args.rps, {
    maxWaitMs: lastMinute
      ? Math.max(MAX_IN_PROCESS_WAIT_MS, remaining - DEADLINE_SLACK_MS)
      : MAX_IN_PROCESS_WAIT_MS,
    reservedAt: job.data.slotAt,
    holdMs: args.holdMs,
  });
  if (slot.go) {
    await sleep(slot.waitMs, args.signal);
    return { kind: 'go', admission: slot.admission };
  }
  if (lastMinute) return { kind: 'go' };
  return {
    kind: 'park',
    until: Date.now() + Math.max(0, slot.waitMs - WAKE_LEAD_MS),
    slotAt: slot.slotAt,
  };
}

/**
 * Parks the job until `until` without spending an attempt: the one place that throws
 * BullMQ's DelayedError. A reservation (`slotAt`) is kept, any other dropped.
 */
export async function park(
  job: Job<ArchiveJobData>,
  token: string | undefined,
  p: { until: number; reason?: string; slotAt?: number },
): Promise<never> {
  const { slotAt: _dropped, ...data } = job.data;
  await job.updateData({
    ...data,
    ...(p.slotAt === undefined ? {} : { slotAt: p.slotAt }),
    ...(p.reason === undefined ? {} : { lastError: p.reason }),
  });
  await job.moveToDelayed(p.until, token);
  throw new DelayedError();
}
