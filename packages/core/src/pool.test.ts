import { describe, expect, it } from 'vitest';
import { forEachLimit, readAhead } from './pool.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('forEachLimit', () => {
  it('runs every item with at most `limit` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await tick();
      seen.push(n);
      inFlight -= 1;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('pulls an async source lazily and stops on the first error', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 1000; i += 1) {
        pulled += 1;
        yield i;
      }
    }
    await expect(
      forEachLimit(source(), 2, async (n) => {
        await tick();
        if (n === 3) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(pulled).toBeLessThan(10);
  });
});

describe('readAhead', () => {
  it('yields everything in order and counts what it pulled ahead', async () => {
    async function* source() {
      for (let i = 0; i < 10; i += 1) yield i;
    }
    const ahead = readAhead(source(), 4);
    const out: number[] = [];
    for await (const n of ahead.items) {
      out.push(n);
      if (n === 0) {
        await tick();
        expect(ahead.seen()).toBeGreaterThanOrEqual(4);
      }
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ahead.seen()).toBe(10);
    expect(ahead.exhausted()).toBe(true);
  });

  it('passes the source error on after the items before it', async () => {
    async function* source() {
      yield 1;
      throw new Error('list failed');
    }
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const n of readAhead(source(), 10).items) out.push(n);
      })(),
    ).rejects.toThrow('list failed');
    expect(out).toEqual([1]);
  });
});
