import { randomUUID } from 'node:crypto';
import { luaScript } from '@archiver/lua-script';
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

/** ADMIT's inputs; ACQUIRE ends with the same ones, since it may admit too. */
const ADMIT_ARGS = {
  limit: 'number',
  windowMs: 'number',
  member: 'string',
  holdMs: 'number',
} as const;

// The safety net under the spacing: Green-API counts a request when it arrives, which may be
// any time between sending and the answer. A request therefore counts from the moment it is
// sent until one window after its answer (in flight: until `holdMs`, in case its process
// dies). Whatever the latency, no window of the server can then see more than `limit`.
// Shared by ADMIT and ACQUIRE: reads `now`, `inflight` and ADMIT_ARGS, and sets `admitted`
// (1 or 0) and `retryMs` (how long before asking again).
const ADMIT_BODY = `
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now - windowMs)
local admitted, retryMs = 0, 0
if redis.call('ZCARD', inflight) < limit then
  redis.call('ZADD', inflight, now + holdMs, member)
  redis.call('PEXPIRE', inflight, windowMs + holdMs)
  admitted = 1
else
  local first = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
  retryMs = math.max(1, math.min(100, tonumber(first[2]) + windowMs - now))
end
`;

/** Returns 0 when admitted, else ms to wait before asking again. */
const ADMIT = luaScript({
  name: 'archiverAdmit',
  keys: ['inflight'],
  args: ADMIT_ARGS,
  body: `
${NOW_MS}
${ADMIT_BODY}
if admitted == 1 then return 0 end
return retryMs
`,
  reply: Number,
});

// One slot per interval per (instance, method), reserved atomically in Redis so every worker
// process shares the budget; a request counts from the moment its slot begins. Redis' clock
// is the only clock, so process clocks may disagree. `slot` holds the next free time (ms),
// `penalty` the end of a 429's block (ms). An earlier reservation is honoured unless it was
// missed (later than `toleranceMs`: sending now could crowd the next slots) or falls inside
// a 429 penalty. A slot that begins now is also admitted (ADMIT, inlined) when a limit is
// given (`limit` 0: do not admit): the caller sends at once, so this is the call it would
// make next, one round trip saved.
const ACQUIRE = luaScript({
  name: 'archiverAcquire',
  keys: ['slot', 'penalty', 'inflight'],
  args: {
    intervalMs: 'number',
    maxWaitMs: 'number',
    /** An earlier reservation (ms), 0 = none. */
    reservedAt: 'number',
    toleranceMs: 'number',
    ...ADMIT_ARGS,
  },
  body: `
${NOW_MS}
local blocked = tonumber(redis.call('GET', penalty) or '0')
local start
if reservedAt > 0 and reservedAt >= now - toleranceMs and reservedAt >= blocked then
  start = reservedAt
else
  local nextFree = tonumber(redis.call('GET', slot) or '0')
  start = math.max(now, nextFree, blocked)
  redis.call('SET', slot, start + intervalMs, 'PX', start - now + intervalMs + 1000)
end
if start - now > maxWaitMs then
  return {0, start - now, start, 0}
end
if start > now or limit <= 0 then
  return {1, math.max(0, start - now), start, 0}
end
${ADMIT_BODY}
return {1, 0, start, admitted}
`,
  // go (1: send after waitMs; 0: the slot at slotAt is held, come back then), waitMs,
  // slotAt, admitted (1: the request is admitted too).
  reply: (raw) => raw as [go: number, waitMs: number, slotAt: number, admitted: number],
});

// A 429: block the (instance, method) from 1 s, doubling to 60 s while 429s continue
// (docs/architecture.md §5), or for Retry-After when Green-API sends one (0 = none). The
// level key expires, so a quiet minute resets the backoff. Returns the block, in ms.
const PENALIZE = luaScript({
  name: 'archiverPenalize',
  keys: ['penalty', 'level'],
  args: { retryAfterMs: 'number' },
  body: `
${NOW_MS}
local n = redis.call('INCR', level)
local delay = retryAfterMs
if delay <= 0 then delay = math.min(60000, 1000 * 2 ^ (n - 1)) end
redis.call('PEXPIRE', level, delay + 60000)
local untilMs = now + delay
local current = tonumber(redis.call('GET', penalty) or '0')
if untilMs > current then redis.call('SET', penalty, untilMs, 'PX', delay + 1000) end
return delay
`,
  reply: Number,
});

// The answer arrived: the request counts one more window from now.
const RELEASE = luaScript({
  name: 'archiverRelease',
  keys: ['inflight'],
  args: { member: 'string' },
  body: `
${NOW_MS}
return redis.call('ZADD', inflight, 'XX', now, member)
`,
  reply: Number,
});

/** Defines the limiter's scripts on `redis` (once); see `defineQueueScripts` for why early. */
export function defineLimiterScripts(redis: RedisClient): void {
  for (const script of [ACQUIRE, PENALIZE, ADMIT, RELEASE]) script.define(redis);
}

/**
 * `go`: send after `waitMs`. Otherwise the slot at `slotAt` (Redis clock) is held: come back in
 * `waitMs`. `admission`: the request is already admitted (pass it to `admitted`).
 */
export type Acquired = { go: boolean; waitMs: number; slotAt: number; admission?: string };

export function createRateLimiter(redis: RedisClient, keys: RedisKeys) {
  defineLimiterScripts(redis);
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
      const [go, waitMs, slotAt, admitted] = await ACQUIRE.run(redis, {
        keys: {
          slot: keys.rate(idInstance, method),
          penalty: keys.penalty(idInstance, method),
          inflight: admit.key,
        },
        args: {
          intervalMs,
          maxWaitMs: opts.maxWaitMs,
          reservedAt: opts.reservedAt ?? 0,
          toleranceMs,
          limit: opts.holdMs === undefined ? 0 : admit.limit,
          windowMs: admit.windowMs,
          member,
          holdMs: opts.holdMs ?? 0,
        },
      });
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
        const waitMs = await ADMIT.run(redis, {
          keys: { inflight: key },
          args: { limit, windowMs, member, holdMs: opts.holdMs },
        });
        if (waitMs === 0) break;
        await sleep(waitMs, opts.signal);
      }
      try {
        return await send();
      } finally {
        // Not awaited: the caller's next step (the download) need not wait a round trip for
        // it. The connection keeps the order of commands, and a release that never lands
        // counts the request longer (until `holdMs`, then a window), as for a process that died.
        void RELEASE.run(redis, { keys: { inflight: key }, args: { member } }).catch(
          () => undefined,
        );
      }
    },

    /**
     * Records a 429; returns how long the (instance, method) is now blocked, in ms. A
     * Retry-After counts up to MAX_RETRY_AFTER_MS.
     */
    penalize(idInstance: string, method: string, retryAfterMs?: number): Promise<number> {
      return PENALIZE.run(redis, {
        keys: {
          penalty: keys.penalty(idInstance, method),
          level: `${keys.penalty(idInstance, method)}:level`,
        },
        args: { retryAfterMs: Math.min(MAX_RETRY_AFTER_MS, Math.max(0, retryAfterMs ?? 0)) },
      });
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
