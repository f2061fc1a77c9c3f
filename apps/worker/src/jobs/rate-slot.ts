import { DelayedError, type Job } from 'bullmq';
import { sleep, type ArchiveJobData, type RateLimiter } from '@archiver/core';

/** A slot this close is waited for in-process; a later one parks the job in `delayed`. */
const MAX_IN_PROCESS_WAIT_MS = 1500;
/** A parked job wakes this much before its slot, so a late pick-up still makes it. */
const WAKE_LEAD_MS = 500;

/**
 * Waits for the instance's downloadFile slot. When the slot is far (a backlog on a 1 rps MAX
 * instance), the job keeps the reservation in its data and goes back to `delayed` until
 * shortly before it, without spending an attempt (DelayedError), so the worker's place
 * serves other instances meanwhile. Returns the request's admission when the slot was free
 * at once (pass it to `limiter.admitted`).
 */
export async function takeDownloadSlot(args: {
  job: Job<ArchiveJobData>;
  /** The job's instance (read from its kept body: the stored data does not repeat it). */
  idInstance: string;
  token: string | undefined;
  limiter: RateLimiter;
  rps: number;
  holdMs: number;
  signal?: AbortSignal;
}): Promise<string | undefined> {
  const { job, limiter } = args;
  const slot = await limiter.acquire(args.idInstance, 'downloadFile', args.rps, {
    maxWaitMs: MAX_IN_PROCESS_WAIT_MS,
    reservedAt: job.data.slotAt,
    holdMs: args.holdMs,
  });
  if (slot.go) {
    await sleep(slot.waitMs, args.signal);
    return slot.admission;
  }
  await job.updateData({ ...job.data, slotAt: slot.slotAt });
  await job.moveToDelayed(Date.now() + Math.max(0, slot.waitMs - WAKE_LEAD_MS), args.token);
  throw new DelayedError();
}

/** Parks the job until `untilMs` without spending an attempt (429 penalty, instance down). */
export async function delayJob(
  job: Job<ArchiveJobData>,
  token: string | undefined,
  untilMs: number,
  lastError: string,
): Promise<never> {
  const { slotAt: _dropped, ...data } = job.data;
  await job.updateData({ ...data, lastError });
  await job.moveToDelayed(untilMs, token);
  throw new DelayedError();
}
