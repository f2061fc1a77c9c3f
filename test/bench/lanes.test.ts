import { describe, expect, it } from 'vitest';
import { inLanes } from '../../bench/src/lib/lanes.js';

describe('inLanes', () => {
  it('runs every task once, never more than `concurrency` at a time, and counts failures', async () => {
    const tasks = Array.from({ length: 50 }, (_, k) => k);
    const done: number[] = [];
    let inFlight = 0;
    let most = 0;
    const failed = await inLanes(
      tasks,
      4,
      async (k) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        if (k % 10 === 3) throw new Error(`task ${k} refused`);
        done.push(k);
      },
      (k) => `task-${k}`,
    );
    expect(failed).toBe(5);
    expect(most).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(tasks.filter((k) => k % 10 !== 3));
  });
});
