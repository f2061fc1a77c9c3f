import { describe, expect, it } from 'vitest';
import { pause, sleep } from './sleep.js';

describe('sleep', () => {
  it('waits at least the time asked', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("rejects with the signal's own reason when aborted, before or during the wait", async () => {
    const reason = new Error('worker shutting down');
    await expect(sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('resolves at once when there is nothing to wait for, even when aborted', async () => {
    await expect(sleep(0, AbortSignal.abort())).resolves.toBeUndefined();
  });
});

describe('pause', () => {
  it('ends early, without an error, when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
