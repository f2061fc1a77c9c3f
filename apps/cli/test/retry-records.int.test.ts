import { GetObjectCommand } from '@aws-sdk/client-s3';
import { readRecordJob, recordKey } from '@archiver/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { retryFailed } from '../src/commands/retry-failed.js';
import {
  createContext,
  envOf,
  MAX,
  putText,
  seedFailedJobs,
  WA,
  type TestContext,
} from './helpers.js';
import { seedFailedRecordJobs, startRecordWorker, type FailedRecordSeed } from './record-jobs.js';

const now = Math.floor(Date.now() / 1000);
const chat = '79001234567@c.us';

function textMessage(idMessage: string, text: string) {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: Number(WA), wid: '79876543210@c.us', typeInstance: 'whatsapp' },
    timestamp: now - 60,
    idMessage,
    senderData: { chatId: chat, sender: chat },
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: text } },
  };
}

/** What an old worker leaves when it cannot read a new-shape job, and one other failure. */
const RECORD_SEEDS: Record<string, FailedRecordSeed> = {
  text: {
    body: textMessage('wa-text-1', 'hello'),
    failedReason: 'invalid_job: chatId: Invalid input: expected string, received undefined',
  },
  status: {
    body: {
      typeWebhook: 'outgoingMessageStatus',
      instanceData: { idInstance: Number(MAX), wid: '79876543210@c.us', typeInstance: 'v3' },
      timestamp: now - 30,
      idMessage: 'max-out-1',
      chatId: '-100200',
      status: 'read',
    },
    failedReason: 'invalid_job: digest: Invalid input: expected string, received undefined',
  },
  other: {
    body: textMessage('wa-text-2', 'second'),
    failedReason: 'AccessDenied: Access Denied',
  },
};

describe('archiver retry-failed on the records queue', () => {
  let ctx: TestContext;
  let archiveIds: string[];
  let ids: Record<string, string>;

  beforeEach(async () => {
    ctx = createContext('retry-records');
    archiveIds = await seedFailedJobs(ctx, [
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: chat,
        idMessage: 'wa-file',
        timestamp: now - 3600,
        failedReason: 'permanent_failure: no_file: gone',
      },
      {
        idInstance: MAX,
        kind: 'max',
        chatId: '-100200',
        idMessage: 'max-file',
        timestamp: now - 600,
        failedReason: 'permanent_failure: too_large: {{SWE002}}',
      },
    ]);
    const names = Object.keys(RECORD_SEEDS);
    const jobIds = await seedFailedRecordJobs(ctx, Object.values(RECORD_SEEDS));
    ids = Object.fromEntries(names.map((name, i) => [name, jobIds[i] as string]));
  });

  afterEach(async () => {
    await ctx.close();
  });

  /** The BullMQ state of every seeded job, record jobs by name, archive jobs by id. */
  async function states() {
    const out: Record<string, string> = {};
    for (const [name, id] of Object.entries(ids)) {
      out[name] = (await (await ctx.deps.recordQueue.getJob(id))?.getState()) ?? 'gone';
    }
    for (const id of archiveIds) {
      out[id] = (await (await ctx.deps.queue.getJob(id))?.getState()) ?? 'gone';
    }
    return out;
  }

  async function keyOf(name: string): Promise<string> {
    const job = await ctx.deps.recordQueue.getJob(ids[name] ?? '');
    const read = readRecordJob(job?.data);
    if (!read.ok) throw new Error(read.error);
    return recordKey(ctx.s3Prefix, read.data);
  }

  async function readText(key: string): Promise<string> {
    const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    return (await res.Body?.transformToString()) ?? '';
  }

  it('re-queues what an older worker failed as invalid_job; the worker then records it, write-once', async () => {
    // One of them was recorded before (a redelivery that got through): it must stay as it is.
    const textKey = await keyOf('text');
    const statusKey = await keyOf('status');
    const earlier = JSON.stringify({ status: 'recorded', note: 'written earlier' });
    await putText(ctx, textKey, earlier);

    const code = await runCli(
      ['retry-failed', '--queue', 'records', '--reason', 'invalid_job'],
      envOf(ctx),
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(0);
    const out = ctx.io.text.out;
    expect(out).toContain('Selected 2 failed record jobs (queue records, reason invalid_job)');
    expect(out).toMatch(new RegExp(`${WA}\\s+permanent_failure: invalid_job\\s+1`));
    expect(out).toContain('Re-queued 2 record jobs');
    expect(out).toContain('Re-queued per queue: records 2');
    expect(out).not.toContain('grace until');
    const after = await states();
    expect(after.text).toBe('waiting');
    expect(after.status).toBe('waiting');
    expect(after.other).toBe('failed');
    for (const id of archiveIds) expect(after[id]).toBe('failed');
    // As stored, with a fresh attempt count and no trace of the failure.
    const job = await ctx.deps.recordQueue.getJob(ids.text ?? '');
    expect(job?.attemptsMade).toBe(0);
    expect(job?.failedReason).toBeFalsy();

    const worker = await startRecordWorker(ctx);
    try {
      await expect.poll(() => worker.results.size, { timeout: 20_000 }).toBe(2);
    } finally {
      await worker.close();
    }
    expect(worker.results.get(ids.text ?? '')).toEqual({ status: 'duplicate', key: textKey });
    expect(worker.results.get(ids.status ?? '')).toEqual({ status: 'recorded', key: statusKey });
    expect(await readText(textKey)).toBe(earlier);
    expect(JSON.parse(await readText(statusKey))).toMatchObject({
      record: 'event',
      idInstance: MAX,
      typeWebhook: 'outgoingMessageStatus',
      idMessage: 'max-out-1',
    });
    // Done jobs leave the queue; only the one not selected is still failed.
    expect(await ctx.deps.recordQueue.getJobCounts('wait', 'active', 'failed')).toEqual({
      wait: 0,
      active: 0,
      failed: 1,
    });
  });

  it('--queue archive leaves record jobs alone', async () => {
    const code = await runCli(
      ['retry-failed', '--queue', 'archive'],
      envOf(ctx),
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(0);
    expect(ctx.io.text.out).toContain('Re-queued 2, grace until');
    expect(ctx.io.text.out).toContain('Re-queued per queue: archive 2\n');
    expect(ctx.io.text.out).not.toContain('record job');
    const after = await states();
    expect([after.text, after.status, after.other]).toEqual(['failed', 'failed', 'failed']);
    for (const id of archiveIds) expect(after[id]).toBe('prioritized');
  });

  it('--queue records leaves archive jobs alone', async () => {
    const result = await retryFailed(ctx.deps, {
      queue: 'records',
      dryRun: false,
      graceMinutes: 60,
    });
    expect(result.archive).toBeUndefined();
    expect(result.records?.requeued.sort()).toEqual(Object.values(ids).sort());
    const after = await states();
    expect([after.text, after.status, after.other]).toEqual(['waiting', 'waiting', 'waiting']);
    for (const id of archiveIds) expect(after[id]).toBe('failed');
    expect(await ctx.deps.queue.getFailedCount()).toBe(2);
  });

  it('without --queue re-queues both queues and counts each', async () => {
    expect(await runCli(['retry-failed'], envOf(ctx), ctx.io, ctx.factory)).toBe(0);
    const out = ctx.io.text.out;
    expect(out).toContain('Selected 2 failed jobs\n');
    expect(out).toContain('Re-queued 2, grace until');
    expect(out).toContain('Selected 3 failed record jobs\n');
    expect(out).toContain('Re-queued 3 record jobs');
    expect(out).toContain('Re-queued per queue: archive 2, records 3');
    expect(await ctx.deps.queue.getFailedCount()).toBe(0);
    expect(await ctx.deps.recordQueue.getFailedCount()).toBe(0);
  });

  it('--dry-run lists both queues and changes nothing', async () => {
    const before = await states();
    expect(await runCli(['retry-failed', '--dry-run'], envOf(ctx), ctx.io, ctx.factory)).toBe(0);
    const out = ctx.io.text.out;
    expect(out).toContain('Dry run: would re-queue 2 failed jobs, grace until');
    expect(out).toContain('Dry run: would re-queue 3 failed record jobs');
    for (const id of Object.values(ids)) expect(out).toContain(id);
    expect(out).toContain('Would re-queue per queue: archive 2, records 3');
    expect(await states()).toEqual(before);
    expect(Object.values(before).every((s) => s === 'failed')).toBe(true);
  });

  it('--reason and --instance select record jobs as they do archive jobs', async () => {
    const unknown = await retryFailed(ctx.deps, {
      reason: 'unknown',
      dryRun: false,
      graceMinutes: 60,
    });
    expect(unknown.records?.requeued).toEqual([ids.other]);
    expect(unknown.archive?.selected).toEqual([]);
    const max = await retryFailed(ctx.deps, {
      reason: 'permanent_failure',
      instance: MAX,
      dryRun: false,
      graceMinutes: 60,
    });
    expect(max.records?.requeued).toEqual([ids.status]);
    expect(max.archive?.requeued).toEqual([archiveIds[1]]);
    const after = await states();
    expect([after.text, after.status, after.other]).toEqual(['failed', 'waiting', 'waiting']);
    expect(after[archiveIds[0] ?? '']).toBe('failed');
  });

  it('a bad --queue exits 2 and changes nothing', async () => {
    const before = await states();
    const code = await runCli(
      ['retry-failed', '--queue', 'files'],
      envOf(ctx),
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(2);
    expect(ctx.io.text.err).toContain('--queue: expected one of archive, records, got "files"');
    expect(ctx.io.text.out).toBe('');
    expect(await states()).toEqual(before);
  });
});
