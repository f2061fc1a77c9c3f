import type { S3Connection } from './services/s3-service.js';
// Pulls vitest into the program; without it tsc rejects the augmentation below (TS2664).
import type {} from 'vitest';

/** What the int project's globalSetup hands to every test file via `inject()`. */
export type TestkitProvided = {
  /** Shared Redis: isolate by queue name / key prefix, never FLUSHALL. */
  redisUrl: string;
  /** Shared S3 bucket: isolate by key prefix. */
  s3: S3Connection;
};

declare module 'vitest' {
  // Interface merging is the only way to type vitest's provide()/inject().
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  export interface ProvidedContext extends TestkitProvided {}
}
