import { Worker } from 'bullmq';
import { expect } from 'vitest';
import { ARCHIVE_QUEUE, createRedis } from '@archiver/core';
import type { TestReceiver } from './harness.js';

/** Fails `count` jobs for real (a BullMQ worker that throws), so the failed list holds them. */
export async function failJobs(receiver: TestReceiver, count: number): Promise<void> {
  const connection = createRedis(receiver.config.redisUrl, 'worker');
  const worker = new Worker(
    ARCHIVE_QUEUE,
    () => {
      throw new Error('permanent_failure: no_file: gone');
    },
    { connection, prefix: receiver.prefix },
  );
  try {
    for (let i = 0; i < count; i += 1) {
      await receiver.queue.add('archive-file', { n: i } as never, {
        jobId: `failed-${i}`,
        attempts: 1,
      });
    }
    await expect
      .poll(() => receiver.queue.getJobCountByTypes('failed'), { timeout: 10_000 })
      .toBe(count);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}
