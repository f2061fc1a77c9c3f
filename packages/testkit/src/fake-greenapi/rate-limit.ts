export type RateLimiter = {
  /** True and counted if fewer than `limit` requests were admitted in the last 1000 ms. */
  tryAcquire(key: string, limit: number): boolean;
};

/**
 * Sliding 1-second window log per key. A request is timestamped when it arrives (before any
 * scripted delay). Rejected (429) requests are not counted, so a client that backs off gets
 * through as soon as the window slides; Green-API does not document which way it counts.
 */
export function createRateLimiter(now: () => number): RateLimiter {
  const windows = new Map<string, number[]>();
  return {
    tryAcquire(key, limit) {
      const t = now();
      const log = windows.get(key) ?? [];
      while (log.length > 0 && (log[0] ?? 0) <= t - 1000) log.shift();
      windows.set(key, log);
      if (log.length >= limit) return false;
      log.push(t);
      return true;
    },
  };
}
