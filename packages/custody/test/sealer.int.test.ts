import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  createCustodyStore,
  parseSeal,
  readHead,
  sealKey,
  sealPending,
  sha256Hex,
  type CustodyStore,
} from '../src/index.js';
import { custodyContext, type CustodyContext } from './helpers.js';
import { startWriteOnceProxy } from './write-once-proxy.js';

let c: CustodyContext;
afterEach(async () => c?.close());

async function sealAt(seq: number) {
  const bytes = await c.store.get(sealKey(c.prefix, seq));
  if (!bytes) throw new Error(`no seal ${seq}`);
  return { bytes, ...parseSeal(bytes) };
}

describe('sealer', () => {
  it('seals pending entries into a chain and trims them from Redis only after', async () => {
    c = custodyContext();
    await c.put('a/1', 'one');
    await c.put('a/2', 'two');
    const first = await sealPending(c.sealer());
    expect(first).toMatchObject({ status: 'done', adopted: [] });
    expect(first.status === 'done' && first.sealed.map((s) => [s.seq, s.count])).toEqual([[1, 2]]);
    expect(await c.log.waiting()).toBe(0);

    await c.put('a/3', 'three');
    await sealPending(c.sealer());
    const [one, two] = [await sealAt(1), await sealAt(2)];
    expect(one.statement.prev).toBeNull();
    expect(two.statement.prev).toBe(sha256Hex(one.bytes));
    expect(two.raw.entries.map((e) => e.key)).toEqual([`${c.prefix}a/3`]);
    expect(await readHead(c.redis, c.keys)).toEqual({
      seq: 2,
      sha256: sha256Hex(two.bytes),
      through: two.statement.through,
    });
  });

  it('writes no seal when nothing waits', async () => {
    c = custodyContext();
    const run = await sealPending(c.sealer());
    expect(run).toEqual({ status: 'done', sealed: [], adopted: [], timestamped: [] });
    expect(await c.store.exists(sealKey(c.prefix, 1))).toBe(false);
  });

  it('splits a large backlog into seals of maxEntries, each continuing the last', async () => {
    c = custodyContext();
    for (let i = 0; i < 7; i += 1) await c.put(`b/${i}`, `x${i}`);
    const run = await sealPending(c.sealer({ maxEntries: 3 }));
    expect(run.status === 'done' && run.sealed.map((s) => s.count)).toEqual([3, 3, 1]);
    expect((await sealAt(3)).statement.prev).toBe(sha256Hex((await sealAt(2)).bytes));
  });

  it('a sealer killed after storing its seal and before trimming: the next takes the seal over, no gap, no fork', async () => {
    c = custodyContext();
    await c.put('k/1', 'one');
    // dies right after the PUT, before the commit
    const dying: CustodyStore = {
      ...c.store,
      async putOnce(key, body, type) {
        await c.store.putOnce(key, body, type);
        throw new Error('killed');
      },
    };
    await expect(sealPending(c.sealer({ store: dying }))).rejects.toThrow('killed');
    expect(await c.log.waiting()).toBe(1); // entries leave Redis only after the commit
    await c.put('k/2', 'two');

    const run = await sealPending(c.sealer());
    expect(run.status === 'done' && run.adopted).toEqual([1]);
    expect(run.status === 'done' && run.sealed.map((s) => s.seq)).toEqual([2]);
    const [one, two] = [await sealAt(1), await sealAt(2)];
    expect(one.raw.entries.map((e) => e.key)).toEqual([`${c.prefix}k/1`]);
    expect(two.raw.entries.map((e) => e.key)).toEqual([`${c.prefix}k/2`]); // not sealed twice
    expect(two.statement.prev).toBe(sha256Hex(one.bytes));
    expect(await c.log.waiting()).toBe(0);
  });

  it('a sealer killed before its PUT leaves its entries for the next seal', async () => {
    c = custodyContext();
    await c.put('k/1', 'one');
    const dying: CustodyStore = {
      ...c.store,
      putOnce: async () => {
        throw new Error('killed');
      },
    };
    await expect(sealPending(c.sealer({ store: dying }))).rejects.toThrow('killed');
    await sealPending(c.sealer());
    expect((await sealAt(1)).raw.entries.map((e) => e.key)).toEqual([`${c.prefix}k/1`]);
  });

  it('two sealers at once: one seals, the other is told the lock is taken; the chain has one seal 1', async () => {
    c = custodyContext();
    for (let i = 0; i < 20; i += 1) await c.put(`r/${i}`, `v${i}`);
    const runs = await Promise.all([sealPending(c.sealer()), sealPending(c.sealer())]);
    expect(runs.map((r) => r.status).sort()).toEqual(['busy', 'done']);
    expect((await sealAt(1)).raw.entries).toHaveLength(20);
    expect(await c.store.exists(sealKey(c.prefix, 2))).toBe(false);
  });

  it('a sealer whose lock expired mid-seal cannot fork the chain: the sequence number is written once', async () => {
    const proxy = await startWriteOnceProxy(inject('s3').endpoint);
    c = custodyContext({ endpoint: proxy.url });
    try {
      await c.put('f/1', 'one');
      // Sealer A stalls between its read-before-write and its PUT; its lock expires and B seals.
      let release!: () => void;
      const stalled = new Promise<void>((r) => (release = r));
      const stallingClient = {
        send: async (cmd: { constructor: { name: string } }) => {
          if (cmd.constructor.name === 'PutObjectCommand') await stalled;
          return c.s3.send(cmd as never);
        },
      } as unknown as S3Client;
      const storeA = createCustodyStore(stallingClient, { bucket: c.bucket, prefix: c.prefix });
      const a = sealPending(c.sealer({ store: storeA, lockTtlMs: 300 }));
      await expect.poll(() => c.redis.exists(c.keys.lock), { timeout: 5000 }).toBe(0);
      await c.put('f/2', 'two');
      const b = await sealPending(c.sealer());
      expect(b.status === 'done' && b.sealed.map((s) => s.count)).toEqual([2]);
      const sealedByB = (await sealAt(1)).bytes;
      release();
      const runA = await a;
      // A's PUT of seal 1 was refused (412); A took B's seal 1 over instead of forking.
      expect(runA).toMatchObject({ status: 'done', sealed: [], adopted: [1] });
      const puts = proxy.seen.filter(
        (r) => r.method === 'PUT' && r.path.endsWith(sealKey(c.prefix, 1)),
      );
      expect(puts.map((r) => [r.headers['if-none-match'], r.status])).toEqual([
        ['*', undefined],
        ['*', 412],
      ]);
      expect((await sealAt(1)).bytes).toEqual(sealedByB);
      expect(await c.store.exists(sealKey(c.prefix, 2))).toBe(false);
    } finally {
      proxy.close();
    }
  });

  it('after Redis lost the head, the next seal continues the chain from the bucket and says so', async () => {
    c = custodyContext();
    await c.put('h/1', 'one');
    await sealPending(c.sealer());
    await c.put('h/2', 'two');
    await sealPending(c.sealer());
    await c.redis.del(c.keys.head);
    await c.put('h/3', 'three');
    const run = await sealPending(c.sealer());
    expect(run.status === 'done' && run.sealed.map((s) => [s.seq, s.headFromBucket])).toEqual([
      [3, true],
    ]);
    expect((await sealAt(3)).statement.prev).toBe(sha256Hex((await sealAt(2)).bytes));
  });

  it('writes seals with the archive Object Lock and encryption settings, write-once', async () => {
    const proxy = await startWriteOnceProxy(inject('s3').endpoint);
    c = custodyContext({ endpoint: proxy.url });
    try {
      const store = createCustodyStore(c.s3, {
        bucket: c.bucket,
        prefix: c.prefix,
        objectLock: { mode: 'COMPLIANCE', days: 30 },
        sse: { type: 'aws:kms', kmsKeyId: 'key-1' },
      });
      await c.put('l/1', 'one');
      await sealPending(c.sealer({ store }));
      const put = proxy.seen.find(
        (r) => r.method === 'PUT' && r.path.endsWith(sealKey(c.prefix, 1)),
      );
      expect(put?.headers).toMatchObject({
        'if-none-match': '*',
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'key-1',
      });
      expect(put?.headers['x-amz-object-lock-retain-until-date']).toBeTruthy();
    } finally {
      proxy.close();
    }
  });
});
