import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Config } from './config.js';

export type S3Timeouts = {
  /** To open a connection. */
  connectionTimeout: number;
  /** Of silence on an open connection: nothing sent and nothing received. */
  socketTimeout: number;
};

/**
 * The SDK's own defaults wait forever on an S3 that accepts a connection and never answers
 * (a black-holed endpoint, a hung proxy), and a job waiting on it would hold its worker
 * place for good. The socket timeout counts silence, not the whole request, so an upload
 * that keeps moving is never cut, however large. A timed-out request is retried by the SDK,
 * then the job by BullMQ's backoff.
 */
export const S3_TIMEOUTS: S3Timeouts = { connectionTimeout: 10_000, socketTimeout: 60_000 };

/**
 * One S3 client per process. Credentials come from the standard AWS SDK chain. Checksums
 * are sent on every upload (`WHEN_SUPPORTED`) so S3 verifies the bytes it stores.
 */
export function createS3Client(
  config: S3Config,
  overrides: Partial<S3ClientConfig> = {},
  timeouts: S3Timeouts = S3_TIMEOUTS,
): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    requestHandler: timeouts,
    ...overrides,
  });
}
