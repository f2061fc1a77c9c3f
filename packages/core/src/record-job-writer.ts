import type { RecordJobData } from './job-catalog.js';
import { recordJobRequest, type RecordQueue } from './queue.js';

export type RecordWriteResult = { outcome: 'accepted'; jobId: string };

type Pending = {
  request: ReturnType<typeof recordJobRequest>;
  resolve: (r: RecordWriteResult) => void;
  reject: (e: unknown) => void;
};

/**
 * Stores record jobs with group commit, as the archive job writer does: the jobs of
 * concurrent callers leave in one `addBulk` on the next turn of the event loop, and each
 * promise settles only once its job is in Redis. A job id already queued is not added twice
 * (BullMQ keeps the first); one already done is added again and finds its record written, so
 * the outcome is always `accepted` and a duplicate still changes nothing.
 */
export function createRecordJobWriter(queue: RecordQueue) {
  let pending: Pending[] = [];
  let scheduled = false;

  async function flush() {
    scheduled = false;
    const batch = pending;
    pending = [];
    try {
      await queue.addBulk(batch.map((p) => p.request));
      for (const p of batch) p.resolve({ outcome: 'accepted', jobId: p.request.opts.jobId });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  return {
    write(data: RecordJobData): Promise<RecordWriteResult> {
      return new Promise((resolve, reject) => {
        pending.push({ request: recordJobRequest(data), resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}

export type RecordJobWriter = ReturnType<typeof createRecordJobWriter>;
