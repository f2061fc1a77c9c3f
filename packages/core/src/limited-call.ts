import { GreenApiRateLimitError, isError } from '@archiver/greenapi';
import type { RateLimiter } from './rate-limit.js';
import { sleep } from './sleep.js';

/** How long a request counts as in flight if its process dies before the answer. */
const IN_FLIGHT_HOLD_MS = 30_000;

/**
 * One Green-API call inside the instance's shared Redis budget for `method` (1 request/s for
 * the settings and state methods, docs/greenapi.md §6.1), so the CLI, the worker's scheduled
 * checks and the backfill never push an instance into 429s together. A 429 is recorded for
 * every process and waited out, up to `maxWaitMs` in all.
 */
export async function limitedCall<T>(
  limiter: RateLimiter,
  idInstance: string,
  method: string,
  call: () => Promise<T>,
  opts: { rps?: number; maxWaitMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const rps = opts.rps ?? 1;
  const started = Date.now();
  const maxWaitMs = opts.maxWaitMs ?? 60_000;
  for (;;) {
    const left = Math.max(0, maxWaitMs - (Date.now() - started));
    const slot = await limiter.acquire(idInstance, method, rps, {
      maxWaitMs: left,
      holdMs: IN_FLIGHT_HOLD_MS,
    });
    if (!slot.go) throw new RateBudgetExhaustedError(method, idInstance);
    await sleep(slot.waitMs, opts.signal);
    try {
      return await limiter.admitted(idInstance, method, rps, call, {
        holdMs: IN_FLIGHT_HOLD_MS,
        signal: opts.signal,
        admission: slot.admission,
      });
    } catch (err) {
      if (!isError(err, GreenApiRateLimitError)) throw err;
      await limiter.penalize(idInstance, method, err.retryAfterMs);
    }
  }
}

/** The instance stayed throttled for longer than the caller was willing to wait. */
export class RateBudgetExhaustedError extends Error {
  override name = 'RateBudgetExhaustedError';
  constructor(method: string, idInstance: string) {
    super(`${method}: instance ${idInstance} still rate limited`);
  }
}
