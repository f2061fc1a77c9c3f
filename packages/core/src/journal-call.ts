import type { Logger } from 'pino';
import { GreenApiRateLimitError, isError } from '@archiver/greenapi';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { sleep } from './sleep.js';

/** The Green-API client's default request timeout: an in-flight call counts at most this long. */
const IN_FLIGHT_HOLD_MS = 30_000;
/** How long one call may wait on 429s and busy slots before the run gives up. */
export const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 5 * 60_000;

/** A journal stayed throttled longer than the run may wait; the next run tries again. */
export class BackfillRateLimitedError extends Error {
  override name = 'BackfillRateLimitedError';
}

/**
 * One rate-limited read of a journal-like method (lastIncomingMessages, getIncomingStatuses …)
 * within the (instance, method) budget every process shares through Redis: takes the slot,
 * calls, and waits out 429s (shared penalty) for at most `maxWaitMs`. In-process waits: these
 * are a few calls per run, not a queue of jobs to reschedule.
 */
export function createJournalCaller(deps: {
  limiter: RateLimiter;
  metrics?: Metrics;
  log: Logger;
  maxWaitMs?: number;
}) {
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  return async function callJournal<T>(
    id: string,
    method: string,
    rps: number,
    call: (signal?: AbortSignal) => Promise<T>,
    opts: { signal?: AbortSignal; onRateLimited?: () => void } = {},
  ): Promise<T> {
    const { signal } = opts;
    const started = Date.now();
    for (;;) {
      const budgetLeft = maxWaitMs - (Date.now() - started);
      const slot = await deps.limiter.acquire(id, method, rps, {
        maxWaitMs: Math.max(0, budgetLeft),
        holdMs: IN_FLIGHT_HOLD_MS,
      });
      if (!slot.go) {
        throw new BackfillRateLimitedError(
          `${method}: instance ${id} still throttled after ${Math.round(maxWaitMs / 1000)} s`,
        );
      }
      await sleep(slot.waitMs, signal);
      try {
        // The safety net under the spacing: the request counts from sending until a window
        // after its answer, however long the (possibly large) answer takes to arrive.
        return await deps.limiter.admitted(id, method, rps, () => call(signal), {
          holdMs: IN_FLIGHT_HOLD_MS,
          signal,
          admission: slot.admission,
        });
      } catch (err) {
        if (!isError(err, GreenApiRateLimitError)) throw err;
        opts.onRateLimited?.();
        deps.metrics?.rateLimited.inc({ instance: id });
        // The penalty is shared: the next acquire (here or in any process) starts after it.
        const blockedMs = await deps.limiter.penalize(id, method, err.retryAfterMs);
        deps.log.warn({ idInstance: id, method, blockedMs }, 'journal rate limited; waiting');
      }
    }
  };
}

export type JournalCaller = ReturnType<typeof createJournalCaller>;
