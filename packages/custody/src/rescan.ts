import type { S3Client } from '@aws-sdk/client-s3';
import type { Cluster, Redis } from 'ioredis';
import type { CustodyKeys } from './custody-keys.js';
import { createCustodyLog } from './log.js';
import { addRescanNote, type RescanNote } from './rescan-note.js';
import type { CustodyStore } from './custody-store.js';
import { loadPublicKey, type SealSigner } from './signing.js';
import type { CustodyVerifyProgress } from './verify/verify-custody.js';
import { verifyCustody } from './verify/verify-custody.js';

/**
 * `archiver seal --rescan`: after Redis lost entries (a flush, a failover without AOF), every
 * object in the bucket that is in no seal and not waiting in Redis is hashed and entered
 * again, and the next seal states how many (its `rescan`). An object whose bytes differ
 * from its sealed entry is not re-entered: that is a breach for `verify` to name, not
 * something a rescan may paper over.
 */
export async function rescanBucket(opts: {
  s3: S3Client;
  store: CustodyStore;
  redis: Redis | Cluster;
  keys: CustodyKeys;
  signer: SealSigner;
  concurrency: number;
  progress?: CustodyVerifyProgress;
}): Promise<RescanNote & { objectsListed: number }> {
  const log = createCustodyLog(opts.redis, opts.keys);
  let entries = 0;
  const result = await verifyCustody({
    s3: opts.s3,
    store: opts.store,
    redis: opts.redis,
    keys: opts.keys,
    publicKey: loadPublicKey(opts.signer.publicKeyPem),
    // every object in no seal counts, however young
    intervalMs: 0,
    now: () => Number.POSITIVE_INFINITY,
    concurrency: opts.concurrency,
    progress: opts.progress,
    onFinding: async (f) => {
      if (f.problem !== 'object_unsealed') return;
      await log.record({
        key: f.key,
        versionId: null,
        sha256: f.sha256,
        size: f.size,
        time: new Date().toISOString(),
      });
      entries += 1;
    },
  });
  const note = await addRescanNote(opts.redis, opts.keys, result.objects, entries);
  return { ...note, entries, objectsListed: result.objects };
}
