import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob } from './corpus.js';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ WORKER_CONCURRENCY: '1' });
});
afterAll(async () => p?.close());

async function get(path: string) {
  const res = await fetch(`http://127.0.0.1:${p.worker!.port}${path}`);
  return { status: res.status, text: await res.text() };
}

function gauge(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} not exported`);
  const value = line.split(' ')[1];
  return value === '+Inf' ? Infinity : Number(value);
}

describe('worker operations', () => {
  it('answers health, readiness and every metric of docs/architecture.md §8', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200 });
    expect(await get('/readyz')).toMatchObject({ status: 200 });
    const { status, text } = await get('/metrics');
    expect(status).toBe(200);
    for (const name of [
      'archiver_webhooks_total',
      'archiver_jobs_total',
      'archiver_bytes_archived_total',
      'archiver_job_duration_seconds',
      'archiver_queue_jobs',
      'archiver_oldest_deadline_seconds',
      'archiver_greenapi_requests_total',
      'archiver_rate_limited_total',
      'archiver_backfill_found_total',
      'archiver_records_total',
      'archiver_statuses_recorded_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('archiver_oldest_deadline_seconds +Inf');
  });

  it('serves the job nearest its deadline first and keeps the oldest-deadline gauge right as the backlog grows and drains', async () => {
    await p.worker!.worker.pause();
    const now = Math.floor(Date.now() / 1000);
    // Written freshest first; deadlines 14, 10 and 2 days away.
    const ages = [1, 5, 13];
    const jobs = ages.map((days, i) =>
      fileJob(p.fake, {
        kind: 'whatsapp',
        idInstance: WA.idInstance,
        typeMessage: 'imageMessage',
        chatId: '11@c.us',
        idMessage: `PRIO${i}`,
        timestamp: now - days * 86_400,
      }),
    );
    const ids: string[] = [];
    for (const job of jobs) {
      ids.push((await p.writer.write(job.data)).jobId);
      const expected = (job.data.timestamp + 15 * 86_400) * 1000 - Date.now();
      const smallest = Math.min(
        ...jobs
          .slice(0, ids.length)
          .map((j) => (j.data.timestamp + 15 * 86_400) * 1000 - Date.now()),
      );
      const value = gauge((await get('/metrics')).text, 'archiver_oldest_deadline_seconds');
      expect(value).toBeCloseTo(smallest / 1000, -1);
      expect(value).toBeLessThanOrEqual(expected / 1000 + 1);
    }
    expect(gauge((await get('/metrics')).text, 'archiver_oldest_deadline_seconds')).toBeLessThan(
      2.1 * 86_400,
    );

    await p.worker!.worker.resume();
    for (const id of ids) {
      await expect
        .poll(() => jobState(p.queue, id), { timeout: 20_000, interval: 50 })
        .toBe('completed');
    }
    const finished = await Promise.all(
      ids.map(async (id) => (await p.queue.getJob(id))!.finishedOn!),
    );
    // Nearest deadline (written last) finished first, the freshest last.
    expect(finished[2]).toBeLessThan(finished[1]!);
    expect(finished[1]).toBeLessThan(finished[0]!);
    expect(gauge((await get('/metrics')).text, 'archiver_oldest_deadline_seconds')).toBe(Infinity);
  });
});
