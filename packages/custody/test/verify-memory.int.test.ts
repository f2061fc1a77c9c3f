import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { loadPublicKey, sealPending, verifyCustody, sha256Hex } from '../src/index.js';
import { custodyContext, type CustodyContext } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let c: CustodyContext;
afterAll(async () => c?.close());

// CUSTODY_VERIFY_OBJECTS runs the same measurement on another size (to compare; multiples of 500).
const OBJECTS = Number(process.env.CUSTODY_VERIFY_OBJECTS ?? 10_000);
const PARTITION_LINES = 200;

/**
 * 10,000 objects in 20 seals, verified with partitions of at most 500 lines: what verify
 * holds at once is bounded by that (and one seal, one listing page, the objects in flight),
 * not by the archive. The heap is sampled while it runs and reported.
 */
describe('verify: memory', () => {
  it(`verifies an intact archive of ${OBJECTS} objects holding at most ${PARTITION_LINES} lines of it`, async () => {
    c = custodyContext();
    const time = new Date().toISOString();
    let next = 0;
    const writeOne = async () => {
      for (let i = next++; i < OBJECTS; i = next++) {
        const key = `${c.prefix}wa/1/c/2026/12/02/M${i}/message.json`;
        const body = Buffer.from(`{"i":${i}}`);
        await c.s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: body }));
        await c.log.record({
          key,
          versionId: null,
          sha256: sha256Hex(body),
          size: body.length,
          time,
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, writeOne));
    const sealed = await sealPending(c.sealer({ maxEntries: 500 }));
    expect(sealed.status === 'done' && sealed.sealed).toHaveLength(OBJECTS / 500);

    gc();
    const before = process.memoryUsage();
    let peakHeap = before.heapUsed;
    let peakRss = before.rss;
    // Every sample follows a full collection: the heap still in use, not garbage waiting.
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 200);
    const started = performance.now();
    const result = await verifyCustody({
      s3: c.s3,
      store: c.store,
      redis: c.redis,
      keys: c.keys,
      publicKey: loadPublicKey(c.signer.publicKeyPem),
      intervalMs: 0,
      concurrency: 8,
      partitionLines: PARTITION_LINES,
    }).finally(() => clearInterval(sampler));
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(
      `verify of ${OBJECTS} objects: ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `heap after GC ${mib(before.heapUsed)} → peak ${mib(peakHeap)} MiB, rss ${mib(before.rss)} → peak ${mib(peakRss)} MiB, ` +
        `partition lines held at most ${result.partitions.maxHeld} (${result.partitions.splits} splits)`,
    );
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({ objects: OBJECTS, sealedObjects: OBJECTS });
    expect(result.partitions.maxHeld).toBeLessThanOrEqual(PARTITION_LINES);
    // 64 partitions split past 64 × 200 lines (each object and its entry is a line)
    if (OBJECTS * 2 > 64 * PARTITION_LINES) expect(result.partitions.splits).toBeGreaterThan(0);
  }, 300_000);
});
