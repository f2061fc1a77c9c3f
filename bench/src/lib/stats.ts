import { setTimeout as sleep } from 'node:timers/promises';

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Each round's own ratio `archiver[i] / baseline[i]`; a verdict takes their median. Each round
 * measures both sides back to back, so a drift of the machine's speed between rounds (a fifth
 * within minutes on these shared machines) cancels within a round instead of landing on one
 * side, as it would comparing each side's median taken apart.
 */
export function roundRatios(archiver: number[], baseline: number[]): number[] {
  if (archiver.length !== baseline.length) throw new Error('rounds do not pair up');
  return archiver.map((a, i) => a / (baseline[i] as number));
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Rounds' ratios as a benchmark note lists them: `0.9, 1.05, 0.73`. */
export function listRatios(ratios: number[]): string {
  return ratios.map((x) => round(x)).join(', ');
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Polls `check` until it returns true; throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms: ${opts.what}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}

/**
 * Polls a queue until `count` of its jobs have completed; a failed job ends the run at once,
 * with the output of the worker that failed it.
 */
export async function waitForCompleted(
  queue: { getJobCounts(...types: Array<'completed' | 'failed'>): Promise<Record<string, number>> },
  count: number,
  worker: { output(): string },
): Promise<void> {
  let completed = 0;
  await waitUntil(
    async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      if ((counts.failed ?? 0) > 0) {
        throw new Error(`${counts.failed} jobs failed:\n${worker.output()}`);
      }
      completed = counts.completed ?? 0;
      return completed >= count;
    },
    {
      timeoutMs: 60 * 60_000,
      // Seldom: the benchmark's process runs the S3 (and fake Green-API) the worker waits on.
      // The end time comes from the jobs, not from when the poll noticed.
      intervalMs: 250,
      what: `worker to complete ${count} jobs (at ${completed})`,
    },
  );
}
