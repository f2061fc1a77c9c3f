import { createHash } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';

export type SchedulerQueue = Pick<
  Queue,
  'upsertJobScheduler' | 'removeJobScheduler' | 'getJobSchedulers'
>;

/** Upserts in flight at once: 5,000 instances declared in a few round trips' time, not 5,000. */
const UPSERT_BATCH = 200;

/**
 * Where in the interval an instance's runs fall: a stable point from a hash of its id, so the
 * runs of thousands of instances spread evenly over the interval instead of all starting in
 * the second the worker started (and a restart does not move them). Never 0: BullMQ reads an
 * offset of 0 as "now".
 */
export function spreadOffset(key: string, everyMs: number): number {
  const hash = createHash('sha256').update(key).digest().readUInt32BE(0);
  return 1 + (hash % Math.max(1, everyMs - 1));
}

/**
 * One BullMQ job scheduler per id under `prefix`, every `everyMs` at the id's spread offset;
 * schedulers under `prefix` of ids not given are removed. `everyMs` 0: all removed. Safe to
 * call from every worker at start-up and on every reload: an upsert of the same scheduler
 * changes nothing.
 */
export async function syncSchedulers(
  queue: SchedulerQueue,
  spec: {
    prefix: string;
    ids: readonly string[];
    everyMs: number;
    jobName: string;
    data: (id: string) => Record<string, unknown>;
    opts: JobsOptions;
  },
): Promise<{ scheduled: string[]; removed: string[] }> {
  const wanted = spec.everyMs > 0 ? spec.ids : [];
  const scheduled = wanted.map((id) => `${spec.prefix}${id}`);
  for (let i = 0; i < wanted.length; i += UPSERT_BATCH) {
    await Promise.all(
      wanted
        .slice(i, i + UPSERT_BATCH)
        .map((id) =>
          queue.upsertJobScheduler(
            `${spec.prefix}${id}`,
            { every: spec.everyMs, offset: spreadOffset(`${spec.prefix}${id}`, spec.everyMs) },
            { name: spec.jobName, data: spec.data(id), opts: spec.opts },
          ),
        ),
    );
  }
  const keep = new Set(scheduled);
  const stale = (await queue.getJobSchedulers())
    .map((s) => s.key)
    .filter((key) => key.startsWith(spec.prefix) && !keep.has(key));
  for (let i = 0; i < stale.length; i += UPSERT_BATCH) {
    await Promise.all(stale.slice(i, i + UPSERT_BATCH).map((key) => queue.removeJobScheduler(key)));
  }
  return { scheduled, removed: stale };
}
