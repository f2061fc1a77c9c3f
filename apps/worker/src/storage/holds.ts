import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import {
  createHoldCache,
  readHolds,
  type HoldCache,
  type HoldRecord,
  type S3Config,
} from '@archiver/core';

/**
 * The worker's copy of the active legal holds (docs/legal-hold.md §3): one listing of
 * `_holds/` per HOLD_REFRESH_SECONDS, each record read once per process (they never change),
 * never a read per object written.
 */
export function createWorkerHolds(s3: S3Client, config: S3Config, logger: Logger): HoldCache {
  const log = logger.child({ component: 'legal-hold' });
  const known = new Map<string, HoldRecord>();
  return createHoldCache({
    ttlMs: config.holdRefreshMs ?? 30_000,
    load: async () =>
      (
        await readHolds({
          s3,
          bucket: config.bucket,
          prefix: config.prefix,
          known,
          onInvalid: (key, problem) => log.warn({ key, problem }, 'not a hold record; skipped'),
        })
      ).active,
  });
}
