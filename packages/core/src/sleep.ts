import { setTimeout as timeout } from 'node:timers/promises';

/**
 * Waits `ms`, or rejects as soon as `signal` aborts, with the signal's reason (as `fetch`
 * does) rather than Node's generic AbortError: a job cancelled by a closing worker then
 * fails with the reason the worker gave. Nothing to wait for resolves at once.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await timeout(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted && signal.reason instanceof Error ? signal.reason : err;
  }
}

/**
 * Waits `ms`, or less when `signal` aborts, and never rejects: for a loop that looks at its
 * stop signal right after the wait (the poller between receives).
 */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
