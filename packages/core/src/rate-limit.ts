import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.js';
import type { RedisKeys } from './redis-keys.js';
import { sleep } from './sleep.js';

/**
 * Spacing slightly wider than the documented budget: Green-API counts requests in a window
 * on arrival, and a few ms of network jitter must not push a sixth request into a second
 * (5 rps → one request every 206 ms ≈ 0.97 × budget).
 */
export const RATE_SAFETY = 0.97;
/**
 * The longest Retry-After honoured: a 429 that asked for hours would otherwise stop an
 * instance's downloads for that long, on the word of one answer (a proxy's, perhaps).
 */
export const MAX_RETRY_AFTER_MS = 60_000;

// Redis' clock in ms as `now`: every script reads it, so process clocks never have to agree.
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// The safety net under the spacing: Green-API counts a request when it arrives, which may be
// any time between sending and the answer. A request therefore counts from the moment it is
// sent until one window after its answer (in flight: until `holdMs`, in case its process
// dies). Whatever the latency, no window of the server can then see more than `limit`.
// KEYS: the in-flight set. ARGV: limit, window ms, member, hold ms. Returns 0 when admitted,
// else ms to wait before asking again. ADMIT_BODY is shared with ACQUIRE: it reads `now`, the
// last key and the last four ARGV, and sets `admitted` (1 or 0) and `retryMs`.
const ADMIT_BODY = `
local inflight = KEYS[#KEYS]
local limit, window = tonumber(ARGV[#ARGV - 3]), tonumber(ARGV[#ARGV - 2])
local member, hold = ARGV[#ARGV - 1], tonumber(ARGV[#ARGV])
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now - window)
local admitted, retryMs = 0, 0
if redis.call('ZCARD', inflight) < limit then
  redis.call('ZADD', inflight, now + hold, member)
  redis.call('PEXPIRE', inflight, window + hold)
  admitted = 1
else
  local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
  retryMs = math.max(1, math.min(100, tonumber(first[2]) + window - now))
end
`;
const ADMIT = `
${NOW_MS}
${ADMIT_BODY}
if admitted == 1 then return 0 end
return retryMs
`;

// One slot per interval per (instance, method), reserved atomically in Redis so every worker
// process shares the budget; a request counts from the moment its slot begins. Redis' clock
// is the only clock, so process clocks may disagree.
// KEYS: slot (next free time, ms), penalty (blocked until, ms), in-flight set (see ADMIT).
// ARGV: interval ms, max wait ms, an earlier reservation (ms, 0 = none), lateness tolerated,
// then ADMIT's limit (0 = do not admit), window ms, member, hold ms.
// Returns {go, waitMs, slotAt, admitted}: go = 1 → send after waitMs; go = 0 → the slot at
// slotAt is reserved but far away: come back then. An earlier reservation is honoured unless
// it was missed (too late: sending now could crowd the next slots) or falls inside a 429
// penalty. A slot that begins now is also admitted (ADMIT, inlined) when a limit is given: the
// caller sends at once, so this is the call it would make next, one round trip saved.
const ACQUIRE = `
${NOW_MS}
local interval = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
local reservedAt = tonumber(ARGV[3])
local tolerance = tonumber(ARGV[4])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
local start
if reservedAt > 0 and reservedAt >= now - tolerance and reservedAt >= blocked then
  start = reservedAt
else
  local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
  start = math.max(now, nextFree, blocked)
  redis.call('SET', KEYS[1], start + interval, 'PX', start - now + interval + 1000)
end
if start - now > maxWait then
  return {0, start - now, start, 0}
end
local limit = tonumber(ARGV[5])
if start > now or limit <= 0 then
  return {1, math.max(0, start - now), start, 0}
end
${ADMIT_BODY}
return {1, 0, start, admitted}
`;

// A 429: block the (instance, method) from 1 s, doubling to 60 s while 429s continue
// (docs/architecture.md §5), or for Retry-After when Green-API sends one. The level key expires, so a
// quiet minute resets the backoff. KEYS: penalty, level. ARGV: retryAfterMs (0 = none).
const PENALIZE = `
${NOW_MS}
local level = redis.call('INCR', KEYS[2])
local delay = tonumber(ARGV[1])
if delay <= 0 then delay = math.min(60000, 1000 * 2 ^ (level - 1)) end
redis.call('PEXPIRE', KEYS[2], delay + 60000)
local untilMs = now + delay
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', delay + 1000) end
return delay
`;

// KEYS: the in-flight set. ARGV: member. The answer arrived: the request counts one more window.
const RELEASE = `
${NOW_MS}
return redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
`;

type LimiterRedis = RedisClient & {
  archiverAdmit(
    inflight: string,
    limit: number,
    windowMs: number,
    member: string,
    holdMs: number,
  ): Promise<number>;
  archiverRelease(inflight: string, member: string): Promise<number>;
  archiverAcquire(
    slot: string,
    penalty: string,
    inflight: string,
    intervalMs: number,
    maxWaitMs: number,
    reservedAt: number,
    toleranceMs: number,
    ...admit: [limit: number, windowMs: number, member: string, holdMs: number]
  ): Promise<[number, number, number, number]>;
  archiverPenalize(penalty: string, level: string, retryAfterMs: number): Promise<number>;
};

/** Defines the limiter's scripts on `redis` (once); see `defineQueueScripts` for why early. */
export function defineLimiterScripts(redis: RedisClient): LimiterRedis {
  const r = redis as LimiterRedis;
  if (!('archiverAcquire' in r)) {
    redis.defineCommand('archiverAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    redis.defineCommand('archiverPenalize', { numberOfKeys: 2, lua: PENALIZE });
    redis.defineCommand('archiverAdmit', { numberOfKeys: 1, lua: ADMIT });
    redis.defineCommand('archiverRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return r;
}

/**
 * `go`: send after `waitMs`. Otherwise the slot at `slotAt` (Redis clock) is held: come back in
 * `waitMs`. `admission`: the request is already admitted (pass it to `admitted`).
 */
export type Acquired = { go: boolean; waitMs: number; slotAt: number; admission?: string };

export function createRateLimiter(redis: RedisClient, keys: RedisKeys) {
  const r = defineLimiterScripts(redis);
  /** ADMIT's arguments for (instance, method) at `rps`: at most `limit` per `windowMs`. */
  const admitArgs = (idInstance: string, method: string, rps: number) => {
    const limit = Math.max(1, Math.floor(rps));
    return {
      key: `${keys.rate(idInstance, method)}:inflight`,
      limit,
      windowMs: Math.ceil((1000 * limit) / rps),
    };
  };
  return {
    /**
     * Takes the next request slot of (instance, method) at `rps`, or honours `reservedAt`, a
     * slot taken earlier. A slot within `maxWaitMs` means go: wait `waitMs`, then send. A
     * later one is held for the caller, who should come back then (a worker delays the job,
     * freeing its place for other instances) and pass it as `reservedAt`. With `holdMs`, a
     * slot that begins now is also admitted as `admitted` would admit it (same round trip).
     */
    async acquire(
      idInstance: string,
      method: string,
      rps: number,
      opts: { maxWaitMs: number; reservedAt?: number; holdMs?: number },
    ): Promise<Acquired> {
      const intervalMs = Math.ceil(1000 / (rps * RATE_SAFETY));
      // Sending later than this after the slot could put two requests closer than the budget
      // allows; the 3 % spacing margin absorbs it.
      const toleranceMs = Math.floor(intervalMs * (1 - RATE_SAFETY));
      const admit = admitArgs(idInstance, method, rps);
      const member = randomUUID();
      const [go, waitMs, slotAt, admitted] = await r.archiverAcquire(
        keys.rate(idInstance, method),
        keys.penalty(idInstance, method),
        admit.key,
        intervalMs,
        opts.maxWaitMs,
        opts.reservedAt ?? 0,
        toleranceMs,
        opts.holdMs === undefined ? 0 : admit.limit,
        admit.windowMs,
        member,
        opts.holdMs ?? 0,
      );
      return { go: go === 1, waitMs, slotAt, admission: admitted === 1 ? member : undefined };
    },

    /**
     * Runs `send` once the request fits the budget counted by arrival (see ADMIT), and keeps
     * it counted for a window after its answer. Use it around every rate-limited call;
     * `admission` (from `acquire`) says the request was admitted already.
     */
    async admitted<T>(
      idInstance: string,
      method: string,
      rps: number,
      send: () => Promise<T>,
      opts: { holdMs: number; signal?: AbortSignal; admission?: string },
    ): Promise<T> {
      const { key, limit, windowMs } = admitArgs(idInstance, method, rps);
      const member = opts.admission ?? randomUUID();
      while (opts.admission === undefined) {
        const waitMs = await r.archiverAdmit(key, limit, windowMs, member, opts.holdMs);
        if (waitMs === 0) break;
        await sleep(waitMs, opts.signal);
      }
      try {
        return await send();
      } finally {
        // Not awaited: the caller's next step (the download) need not wait a round trip for
        // it. The connection keeps the order of commands, and a release that never lands
        // counts the request longer (until `holdMs`, then a window), as for a process that died.
        void r.archiverRelease(key, member).catch(() => undefined);
      }
    },

    /**
     * Records a 429; returns how long the (instance, method) is now blocked, in ms. A
     * Retry-After counts up to MAX_RETRY_AFTER_MS.
     */
    penalize(idInstance: string, method: string, retryAfterMs?: number): Promise<number> {
      return r.archiverPenalize(
        keys.penalty(idInstance, method),
        `${keys.penalty(idInstance, method)}:level`,
        Math.min(MAX_RETRY_AFTER_MS, Math.max(0, retryAfterMs ?? 0)),
      );
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
