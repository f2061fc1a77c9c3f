import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Config } from './config.js';

/**
 * One S3 client per process. Credentials come from the standard AWS SDK chain. Checksums
 * are sent on every upload (`WHEN_SUPPORTED`) so S3 verifies the bytes it stores.
 */
export function createS3Client(
  config: S3Config,
  overrides: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    ...overrides,
  });
}
