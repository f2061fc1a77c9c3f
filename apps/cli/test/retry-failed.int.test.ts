import { redisKeys, effectiveDeadline, readArchiveJob } from '@archiver/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { retryFailed } from '../src/commands/retry-failed.js';
import { scanFailedJobs } from '../src/failed-jobs.js';
import {
  createContext,
  envOf,
  MAX,
  seedFailedJobs,
  WA,
  type FailedSeed,
  type TestContext,
} from './helpers.js';

const now = Math.floor(Date.now() / 1000);
const chat = '79001234567@c.us';
const SEEDS: FailedSeed[] = [
  {
    idInstance: WA,
    kind: 'whatsapp',
    chatId: chat,
    idMessage: 'wa-nofile-1',
    timestamp: now - 3600,
    failedReason: 'permanent_failure: no_file: file message encrypted url not found',
  },
  {
    idInstance: WA,
    kind: 'whatsapp',
    chatId: chat,
    idMessage: 'wa-nofile-2',
    timestamp: now - 7200,
    failedReason: 'permanent_failure: no_file: file message encrypted url not found',
  },
  {
    idInstance: WA,
    kind: 'whatsapp',
    chatId: chat,
    idMessage: 'wa-large',
    timestamp: now - 60,
    failedReason: 'permanent_failure: too_large: {{SWE002}}',
  },
  // 20 days old: past its 15-day deadline; only a grace lets it run again.
  {
    idInstance: WA,
    kind: 'whatsapp',
    chatId: chat,
    idMessage: 'wa-expired',
    timestamp: now - 20 * 86_400,
    failedReason: 'expired: deadline_passed: socket hang up',
  },
  {
    idInstance: MAX,
    kind: 'max',
    chatId: '-100200',
    idMessage: 'max-nofile',
    timestamp: now - 600,
    failedReason: 'permanent_failure: no_file: gone',
  },
  {
    idInstance: MAX,
    kind: 'max',
    chatId: '-100200',
    idMessage: 'max-bad',
    timestamp: now - 600,
    failedReason: 'permanent_failure: bad_request: 400 Bad Request',
  },
];

describe('archiver retry-failed', () => {
  let ctx: TestContext;
  let ids: Record<string, string>;

  beforeEach(async () => {
    ctx = createContext('retry');
    const jobIds = await seedFailedJobs(ctx, SEEDS);
    ids = Object.fromEntries(SEEDS.map((s, i) => [s.idMessage, jobIds[i] as string]));
  });

  afterEach(async () => {
    await ctx.close();
  });

  /** Per job id: its BullMQ state, whether it has a grace, and its score in the deadlines set. */
  async function snapshot() {
    const keys = redisKeys(ctx.queuePrefix);
    const out: Record<string, { state: string; grace: boolean; deadline: number | null }> = {};
    for (const [name, id] of Object.entries(ids)) {
      const job = await ctx.deps.queue.getJob(id);
      const score = await ctx.deps.redis.zscore(keys.deadlines, id);
      out[name] = {
        state: (await job?.getState()) ?? 'gone',
        grace: job?.data.graceUntil !== undefined,
        deadline: score === null ? null : Number(score),
      };
    }
    return out;
  }

  function requeuedNames(snap: Awaited<ReturnType<typeof snapshot>>) {
    return Object.entries(snap)
      .filter(([, s]) => s.state !== 'failed')
      .map(([name]) => name)
      .sort();
  }

  it('--dry-run lists the selection and changes nothing', async () => {
    const before = await snapshot();
    const code = await runCli(
      ['retry-failed', '--reason', 'no_file', '--dry-run'],
      envOf(ctx),
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(0);
    expect(ctx.io.text.out).toContain('Dry run: would re-queue 3 failed jobs (reason no_file)');
    for (const name of ['wa-nofile-1', 'wa-nofile-2', 'max-nofile']) {
      expect(ctx.io.text.out).toContain(ids[name]);
    }
    expect(ctx.io.text.out).not.toContain(ids['wa-large']);
    expect(await snapshot()).toEqual(before);
    expect(
      Object.values(before).every((s) => s.state === 'failed' && !s.grace && s.deadline === null),
    ).toBe(true);
  });

  it('--reason re-queues exactly the jobs with that reason code', async () => {
    const result = await retryFailed(ctx.deps, {
      reason: 'no_file',
      dryRun: false,
      graceMinutes: 60,
    });
    expect(result.archive?.requeued.sort()).toEqual(
      [ids['wa-nofile-1'], ids['wa-nofile-2'], ids['max-nofile']].sort(),
    );
    expect(result.archive?.skipped).toEqual([]);
    const snap = await snapshot();
    expect(requeuedNames(snap)).toEqual(['max-nofile', 'wa-nofile-1', 'wa-nofile-2']);
    for (const name of ['wa-large', 'wa-expired', 'max-bad']) {
      expect(snap[name]).toEqual({ state: 'failed', grace: false, deadline: null });
    }
    // Re-queued jobs wait (prioritized by deadline) with a grace and an entry in the deadlines set.
    for (const name of ['wa-nofile-1', 'wa-nofile-2', 'max-nofile']) {
      expect(snap[name]?.state).toBe('prioritized');
      expect(snap[name]?.grace).toBe(true);
    }
    const job = await ctx.deps.queue.getJob(ids['max-nofile'] ?? '');
    // MAX instance: retentionDays 10 in its config; the deadline is the later of its own and the grace.
    const read = readArchiveJob(job?.data);
    if (!read.ok) throw new Error(read.error);
    expect(snap['max-nofile']?.deadline).toBe(effectiveDeadline(read.data, 10));
    expect(job?.attemptsMade).toBe(0);
    expect(await ctx.deps.queue.getFailedCount()).toBe(3);
  });

  it('--instance re-queues only that instance, whatever the reason', async () => {
    const code = await runCli(['retry-failed', '--instance', MAX], envOf(ctx), ctx.io, ctx.factory);
    expect(code).toBe(0);
    expect(ctx.io.text.out).toContain('Re-queued 2');
    expect(requeuedNames(await snapshot())).toEqual(['max-bad', 'max-nofile']);
  });

  it('--reason and --instance together narrow to both', async () => {
    const result = await retryFailed(ctx.deps, {
      reason: 'no_file',
      instance: WA,
      dryRun: false,
      graceMinutes: 60,
    });
    expect(result.archive?.requeued.sort()).toEqual(
      [ids['wa-nofile-1'], ids['wa-nofile-2']].sort(),
    );
    expect(requeuedNames(await snapshot())).toEqual(['wa-nofile-1', 'wa-nofile-2']);
  });

  it('an outcome works as a filter; an expired job gets the grace as its deadline', async () => {
    const before = Date.now();
    const result = await retryFailed(ctx.deps, {
      reason: 'expired',
      dryRun: false,
      graceMinutes: 30,
    });
    expect(result.archive?.requeued).toEqual([ids['wa-expired']]);
    const job = await ctx.deps.queue.getJob(ids['wa-expired'] ?? '');
    const grace = job?.data.graceUntil ?? 0;
    expect(grace).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(grace).toBeLessThanOrEqual(Date.now() + 30 * 60_000);
    // Its own deadline passed 5 days ago: the grace is what it runs to.
    expect((await snapshot())['wa-expired']?.deadline).toBe(grace);
  });

  it('without filters re-queues every failed job', async () => {
    const result = await retryFailed(ctx.deps, { dryRun: false, graceMinutes: 60 });
    expect(result.archive?.requeued).toHaveLength(SEEDS.length);
    expect(await ctx.deps.queue.getFailedCount()).toBe(0);
    expect(await ctx.deps.redis.zcard(redisKeys(ctx.queuePrefix).deadlines)).toBe(SEEDS.length);
  });

  it('pages through the failed set', async () => {
    // A page of 2 over 6 failed jobs: the selection is the same as one page.
    const seen: string[] = [];
    for await (const ref of scanFailedJobs(ctx.deps.queue, ctx.deps.redis, { pageSize: 2 })) {
      seen.push(ref.jobId);
    }
    expect(seen.sort()).toEqual(Object.values(ids).sort());
  });
});
