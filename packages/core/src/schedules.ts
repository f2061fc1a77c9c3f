import { createHash } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';

export type SchedulerQueue = Pick<
  Queue,
  'upsertJobScheduler' | 'removeJobScheduler' | 'getJobSchedulers'
>;

/** Upserts in flight at once: 5,000 instances declared in a few round trips' time, not 5,000. */
const UPSERT_BATCH = 50;

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
  // One read of what is there, so a restart or a reload upserts only what changed: with
  // 5,000 instances that is the difference between seconds and milliseconds.
  const existing = new Map(
    (await queue.getJobSchedulers(0, -1)).map((s) => [
      s.key,
      `${s.every ?? ''}|${JSON.stringify(s.template?.data ?? null)}`,
    ]),
  );
  const keep = new Set(scheduled);
  const stale = [...existing.keys()].filter((key) => key.startsWith(spec.prefix) && !keep.has(key));
  const todo = wanted.filter(
    (id) =>
      existing.get(`${spec.prefix}${id}`) !== `${spec.everyMs}|${JSON.stringify(spec.data(id))}`,
  );
  for (let i = 0; i < todo.length; i += UPSERT_BATCH) {
    await Promise.all(
      todo
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
  for (let i = 0; i < stale.length; i += UPSERT_BATCH) {
    await Promise.all(stale.slice(i, i + UPSERT_BATCH).map((key) => queue.removeJobScheduler(key)));
  }
  return { scheduled, removed: stale };
}
