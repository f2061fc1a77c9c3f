import type { Logger } from 'pino';
import { GreenApiRateLimitError, isError } from '@archiver/greenapi';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { sleep } from './sleep.js';

/**
 * How long a request counts as in flight if its process dies before the answer: the
 * Green-API client's default request timeout.
 */
const IN_FLIGHT_HOLD_MS = 30_000;
/**
 * How long a journal read (backfill, statuses) may wait on 429s and busy slots before the
 * run gives up: a few calls per run, worth waiting for; the next run tries again anyway.
 */
export const JOURNAL_MAX_WAIT_MS = 5 * 60_000;

export type LimitedCallOptions = {
  /**
   * The (instance, method) budget in requests/s; default 1, the settings and state methods'
   * (docs/greenapi.md §6.1).
   */
  rps?: number;
  /** The longest wait for a slot and on 429s, in all (default 60 s). */
  maxWaitMs?: number;
  /** Aborts the waits and is passed to `call`. */
  signal?: AbortSignal;
  /** Each 429, once recorded for every process. */
  onRateLimited?: () => void;
  /** Counts each 429 in `archiver_rate_limited_total`. */
  metrics?: Metrics;
  /** Logs each 429 with how long the (instance, method) is now blocked. */
  log?: Logger;
};

/**
 * One Green-API call inside the instance's shared Redis budget for `method`, so the CLI,
 * the worker's scheduled checks, the backfill and the statuses reader never push an
 * instance into 429s together: takes the slot, waits for it, calls, and keeps the request
 * counted for a window after its answer. A 429 is recorded for every process (the next
 * slot, here or anywhere, starts after it) and waited out, up to `maxWaitMs` in all. The
 * waits are in-process: these are a few calls, not a queue of jobs to reschedule.
 */
export async function limitedCall<T>(
  limiter: RateLimiter,
  idInstance: string,
  method: string,
  call: (signal?: AbortSignal) => Promise<T>,
  opts: LimitedCallOptions = {},
): Promise<T> {
  const { signal } = opts;
  const rps = opts.rps ?? 1;
  const maxWaitMs = opts.maxWaitMs ?? 60_000;
  const started = Date.now();
  for (;;) {
    const left = Math.max(0, maxWaitMs - (Date.now() - started));
    const slot = await limiter.acquire(idInstance, method, rps, {
      maxWaitMs: left,
      holdMs: IN_FLIGHT_HOLD_MS,
    });
    if (!slot.go) throw new RateBudgetExhaustedError(method, idInstance, maxWaitMs);
    await sleep(slot.waitMs, signal);
    try {
      // The safety net under the spacing: the request counts from sending until a window
      // after its answer, however long the (possibly large) answer takes to arrive.
      return await limiter.admitted(idInstance, method, rps, () => call(signal), {
        holdMs: IN_FLIGHT_HOLD_MS,
        signal,
        admission: slot.admission,
      });
    } catch (err) {
      if (!isError(err, GreenApiRateLimitError)) throw err;
      opts.onRateLimited?.();
      opts.metrics?.rateLimited.inc({ instance: idInstance });
      const blockedMs = await limiter.penalize(idInstance, method, err.retryAfterMs);
      opts.log?.warn({ idInstance, method, blockedMs }, 'rate limited; waiting');
    }
  }
}

/** The instance stayed throttled for longer than the caller was willing to wait. */
export class RateBudgetExhaustedError extends Error {
  override name = 'RateBudgetExhaustedError';
  constructor(method: string, idInstance: string, maxWaitMs: number) {
    super(
      `${method}: instance ${idInstance} still rate limited after ${Math.round(maxWaitMs / 1000)} s`,
    );
  }
}
