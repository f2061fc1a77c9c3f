import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX, WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob } from './corpus.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ WORKER_CONCURRENCY: '16' });
});
afterAll(async () => p?.close());

/** The most requests seen in any 1-second window (the fake counts on arrival, as Green-API does). */
function peakPerSecond(times: number[]): number {
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j += 1;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

function downloadCalls(idInstance: string) {
  return p.fake.calls.filter((c) => c.method === 'downloadFile' && c.idInstance === idInstance);
}

describe('per-instance downloadFile budget', () => {
  it('drains a backlog within the budget without provoking a 429, and a slow instance does not hold back another', async () => {
    p.fake.clearCalls();
    const wa = Array.from({ length: 20 }, (_, i) =>
      fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'imageMessage',
        chatId: '9@c.us',
        idMessage: `RL-WA-${i}`,
        size: 500,
      }),
    );
    const max = Array.from({ length: 8 }, (_, i) =>
      fileJob(p.fake, {
        kind: 'max',
        idInstance: MAX.idInstance,
        typeMessage: 'imageMessage',
        chatId: '900',
        idMessage: `9${i}00000000001`,
        size: 500,
      }),
    );
    // MAX jobs first: if the 1 rps instance blocked worker slots, WhatsApp would crawl.
    const written = [
      ...(await Promise.all(max.map((j) => p.writer.write(j.data)))),
      ...(await Promise.all(wa.map((j) => p.writer.write(j.data)))),
    ];
    for (const w of written) {
      await expect
        .poll(() => jobState(p.queue, w.jobId), { timeout: 30_000, interval: 100 })
        .toBe('completed');
    }

    const waCalls = downloadCalls(WA.idInstance);
    const maxCalls = downloadCalls(MAX.idInstance);
    expect(waCalls.every((c) => c.status === 200)).toBe(true);
    expect(maxCalls.every((c) => c.status === 200)).toBe(true);
    expect(peakPerSecond(waCalls.map((c) => c.at))).toBeLessThanOrEqual(5);
    expect(peakPerSecond(maxCalls.map((c) => c.at))).toBeLessThanOrEqual(1);
    // WhatsApp ran near its own budget while the MAX backlog, queued first, drained at 1/s.
    const span = (calls: typeof waCalls) =>
      (Math.max(...calls.map((c) => c.at)) - Math.min(...calls.map((c) => c.at))) / 1000;
    expect((waCalls.length - 1) / span(waCalls)).toBeGreaterThan(4);
    expect(Math.max(...waCalls.map((c) => c.at))).toBeLessThan(
      Math.max(...maxCalls.map((c) => c.at)),
    );
  });

  it('backs an instance off on 429 without spending attempts, and archives once the instance recovers', async () => {
    p.fake.clearCalls();
    p.fake.throttleInstance(WA.idInstance, 1);
    const jobs = Array.from({ length: 8 }, (_, i) =>
      fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'documentMessage',
        chatId: '8@c.us',
        idMessage: `T429-${i}`,
        size: 300,
      }),
    );
    const written = await Promise.all(jobs.map((j) => p.writer.write(j.data)));
    await expect
      .poll(() => p.fake.count('downloadFile', { idInstance: WA.idInstance, status: 429 }), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    p.fake.throttleInstance(WA.idInstance, 5);
    for (const w of written) {
      await expect
        .poll(() => jobState(p.queue, w.jobId), { timeout: 60_000, interval: 100 })
        .toBe('completed');
    }
    // BullMQ counts the finishing attempt; the 429 delays spent none.
    for (const w of written) expect((await p.queue.getJob(w.jobId))?.attemptsMade).toBe(1);
  });
});
