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
): Promise<{ scheduled: string[]; removed: string[]; moved: string[] }> {
  const wanted = spec.everyMs > 0 ? spec.ids : [];
  const key = (id: string) => `${spec.prefix}${id}`;
  const offset = (id: string) => spreadOffset(key(id), spec.everyMs);
  const scheduled = wanted.map(key);
  // One read of what is there, so a restart or a reload upserts only what changed: with
  // 5,000 instances that is the difference between seconds and milliseconds.
  const existing = new Map(
    (await queue.getJobSchedulers(0, -1))
      .filter((s) => s.key.startsWith(spec.prefix))
      .map((s) => [s.key, s]),
  );
  const keep = new Set(scheduled);
  const stale = [...existing.keys()].filter((k) => !keep.has(k));
  const todo = wanted.filter((id) => {
    const s = existing.get(key(id));
    return (
      !s ||
      s.every !== spec.everyMs ||
      s.offset !== offset(id) ||
      JSON.stringify(s.template?.data ?? null) !== JSON.stringify(spec.data(id))
    );
  });
  // An upsert keeps an existing scheduler's next run (BullMQ moves its offset only when the
  // interval changes), so one declared at another point (before spreading, or at start-up
  // time) is removed and declared again: it runs next at its own point, not with the herd.
  const moved = todo.filter((id) => {
    const s = existing.get(key(id));
    return s !== undefined && s.every === spec.everyMs && s.offset !== offset(id);
  });
  await inBatches(moved, (id) => queue.removeJobScheduler(key(id)));
  await inBatches(todo, (id) =>
    queue.upsertJobScheduler(
      key(id),
      { every: spec.everyMs, offset: offset(id) },
      { name: spec.jobName, data: spec.data(id), opts: spec.opts },
    ),
  );
  await inBatches(stale, (k) => queue.removeJobScheduler(k));
  return { scheduled, removed: stale, moved: moved.map(key) };
}

async function inBatches<T>(items: readonly T[], each: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += UPSERT_BATCH) {
    await Promise.all(items.slice(i, i + UPSERT_BATCH).map(each));
  }
}
