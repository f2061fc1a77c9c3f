import { CHECK_JOB, CHECK_JOB_OPTIONS } from './job-catalog.js';
import { INSTANCE_CHECKS, type InstanceReport } from './instance-check.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisClient } from './redis.js';
import { syncSchedulers, type SchedulerQueue } from './schedules.js';

const CHECK_SCHEDULER_PREFIX = 'check-';

/**
 * One readiness check per instance every `intervalMinutes`, spread over the interval like the
 * backfill (`spreadOffset`); 0 removes them.
 */
export function scheduleInstanceChecks(
  queue: SchedulerQueue,
  ids: readonly string[],
  intervalMinutes: number,
) {
  return syncSchedulers(queue, {
    prefix: CHECK_SCHEDULER_PREFIX,
    ids,
    everyMs: intervalMinutes * 60_000,
    jobName: CHECK_JOB,
    data: (idInstance) => ({ idInstance }),
    opts: CHECK_JOB_OPTIONS,
  });
}

/** What Redis keeps per instance: when, and 1/0 per check (no detail: it may name a URL). */
type Stored = { at: number; checks: Record<string, 0 | 1> };

/** Keeps the latest report of an instance, for the gauge of every worker replica. */
export async function saveReadiness(
  redis: RedisClient,
  keys: Pick<RedisKeys, 'ready'>,
  report: InstanceReport,
): Promise<void> {
  const stored: Stored = {
    at: report.at,
    checks: Object.fromEntries(report.results.map((r) => [r.check, r.ok ? 1 : 0])),
  };
  await redis.hset(keys.ready, report.idInstance, JSON.stringify(stored));
}

/**
 * The latest readiness of the instances in `ids` (others, such as removed instances, are left
 * out and their entries dropped), as gauge values: instance → check → 1/0.
 */
export async function readReadiness(
  redis: RedisClient,
  keys: Pick<RedisKeys, 'ready'>,
  ids: { has(id: string): boolean },
): Promise<Map<string, Record<string, 0 | 1>>> {
  const all = await redis.hgetall(keys.ready);
  const out = new Map<string, Record<string, 0 | 1>>();
  const gone: string[] = [];
  for (const [id, json] of Object.entries(all)) {
    if (!ids.has(id)) {
      gone.push(id);
      continue;
    }
    try {
      const stored = JSON.parse(json) as Stored;
      out.set(
        id,
        Object.fromEntries(INSTANCE_CHECKS.map((c) => [c, stored.checks[c] === 1 ? 1 : 0])),
      );
    } catch {
      gone.push(id);
    }
  }
  if (gone.length > 0) await redis.hdel(keys.ready, ...gone);
  return out;
}
