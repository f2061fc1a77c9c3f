import type { TestProject } from 'vitest/node';
import type { TestkitProvided } from './provided.js';
import { startRedis } from './services/redis.js';
import { startS3 } from './services/s3-service.js';

/**
 * Vitest globalSetup for the int project: one Redis and one S3 for the whole run, handed to
 * test files as `inject('redisUrl')` and `inject('s3')`. Tests that stop or restart Redis
 * start their own with startRedis().
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [redisStart, s3Start] = await Promise.allSettled([startRedis(), startS3()]);
  if (redisStart.status === 'rejected' || s3Start.status === 'rejected') {
    // Do not leave the one that did start running behind a failed setup.
    await Promise.allSettled([
      redisStart.status === 'fulfilled' ? redisStart.value.stop() : undefined,
      s3Start.status === 'fulfilled' ? s3Start.value.stop() : undefined,
    ]);
    throw redisStart.status === 'rejected'
      ? redisStart.reason
      : (s3Start as PromiseRejectedResult).reason;
  }
  const redis = redisStart.value;
  const s3 = s3Start.value;
  const provided: TestkitProvided = {
    redisUrl: redis.url,
    s3: s3.connection,
  };
  project.provide('redisUrl', provided.redisUrl);
  project.provide('s3', provided.s3);
  return async () => {
    await Promise.allSettled([redis.stop(), s3.stop()]);
  };
}
