import type { ArchiveQueue, RecordQueue, RedisClient } from '@archiver/core';
import { instanceOfJobId, parseFailedReason, type FailedReason } from './failed-reason.js';

export type FailedJobRef = { jobId: string; idInstance: string | undefined; reason: FailedReason };

/**
 * Failed jobs one page at a time, newest first: ids from the failed set, then only the
 * `failedReason` field of each job hash in one pipelined round trip, so 100k failed jobs
 * never load (with their message bodies) at once. `instance` skips other instances' jobs
 * before anything is read for them. A job seen twice (the set shifts while a worker adds
 * failures) is yielded once. Either queue: the job hash is named by the queue itself.
 */
export async function* scanFailedJobs(
  queue: ArchiveQueue | RecordQueue,
  redis: RedisClient,
  opts: { instance?: string; pageSize?: number } = {},
): AsyncGenerator<FailedJobRef> {
  const pageSize = opts.pageSize ?? 1000;
  const seen = new Set<string>();
  for (let start = 0; ; start += pageSize) {
    const ids = await queue.getRanges(['failed'], start, start + pageSize - 1);
    if (ids.length === 0) return;
    const wanted = ids.filter(
      (id) =>
        !seen.has(id) && (opts.instance === undefined || instanceOfJobId(id) === opts.instance),
    );
    const pipeline = redis.pipeline();
    for (const id of wanted) pipeline.hget(queue.toKey(id), 'failedReason');
    const results = wanted.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    for (const [index, id] of wanted.entries()) {
      seen.add(id);
      const [err, value] = results[index] ?? [null, null];
      if (err) throw err;
      yield {
        jobId: id,
        idInstance: instanceOfJobId(id),
        reason: parseFailedReason(typeof value === 'string' ? value : undefined),
      };
    }
    if (ids.length < pageSize) return;
  }
}
