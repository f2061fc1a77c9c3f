import {
  archiveJobId,
  redisKeys,
  createIngestPath,
  readArchiveJob,
  readKeptMessage,
  type Ingest,
  type Quarantine,
  type QuarantineEntry,
} from '@archiver/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { listQuarantine, replayQuarantine } from '../src/commands/quarantine.js';
import { createContext, envOf, WA, type TestContext } from './helpers.js';

const now = Math.floor(Date.now() / 1000);

/** A documented incomingMessageReceived file webhook. */
function fileWebhook(idMessage: string): Record<string, unknown> {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: Number(WA), wid: '11001234567@c.us', typeInstance: 'whatsapp' },
    timestamp: now - 60,
    idMessage,
    senderData: { chatId: '79001234567@c.us', sender: '79001234567@c.us', senderName: 'Ann' },
    messageData: {
      typeMessage: 'documentMessage',
      fileMessageData: {
        downloadUrl: 'https://sw-media.storage.yandexcloud.net/1101000001/report.pdf',
        fileName: 'report.pdf',
        mimeType: 'application/pdf',
        caption: '',
        jpegThumbnail: 'AAAA',
      },
    },
  };
}

describe('archiver quarantine', () => {
  let ctx: TestContext;
  let quarantine: Quarantine;
  let ingest: Ingest;

  beforeEach(() => {
    ctx = createContext('quarantine');
    // The receiver's ingest path on the CLI's queue: bodies are quarantined as in production.
    ({ quarantine, ingest } = createIngestPath(ctx.deps.redis, ctx.deps.config, {
      queue: ctx.deps.queue,
    }));
  });

  afterEach(async () => {
    await ctx.close();
  });

  /** Quarantines a body the way the receiver does. */
  async function quarantineBody(body: Record<string, unknown>): Promise<string> {
    const text = JSON.stringify(body);
    const result = await ingest(body, text, 'webhook');
    if (result.outcome !== 'quarantined' || result.quarantineId === undefined) {
      throw new Error(`expected quarantine, got ${result.outcome}`);
    }
    return result.quarantineId;
  }

  /** What an operator does with redis-cli: rewrite the stored body in place. */
  async function repair(id: string, body: Record<string, unknown>) {
    const entry = (await quarantine.get(id)) as QuarantineEntry;
    await ctx.deps.redis.hset(
      redisKeys(ctx.queuePrefix).quarantineBodies,
      id,
      JSON.stringify({ ...entry, body: JSON.stringify(body) }),
    );
  }

  it('lists entries newest first, with reasons, as text and JSON', async () => {
    const { idMessage: _drop, ...noId } = fileWebhook('x');
    const first = await quarantine.add({
      receivedAt: Date.now() - 2000,
      reason: 'idMessage: Invalid input',
      idInstance: WA,
      body: JSON.stringify(noId),
    });
    const second = await quarantine.add({
      receivedAt: Date.now() - 1000,
      reason: 'unknown typeWebhook',
      idInstance: WA,
      typeWebhook: 'somethingNew',
      body: '{"typeWebhook":"somethingNew"}',
    });

    const listed = await listQuarantine(ctx.deps, 10);
    expect(listed.total).toBe(2);
    expect(listed.entries.map((e) => e.id)).toEqual([second, first]);

    expect(
      await runCli(['quarantine', 'list', '--limit', '1'], envOf(ctx), ctx.io, ctx.factory),
    ).toBe(0);
    expect(ctx.io.text.out).toContain('Quarantine: 2 bodies, newest 1 shown');
    expect(ctx.io.text.out).toContain(second);
    expect(ctx.io.text.out).toContain('reason: unknown typeWebhook');
    expect(ctx.io.text.out).not.toContain(first);

    const json = ctx.resetIo();
    expect(await runCli(['quarantine', 'list', '--json'], envOf(ctx), json, ctx.factory)).toBe(0);
    const parsed = JSON.parse(json.text.out) as { total: number; entries: QuarantineEntry[] };
    expect(parsed.entries.map((e) => e.id)).toEqual([second, first]);
    // Kept as received, but for the base64 thumbnail.
    const withoutThumbnail = JSON.parse(
      JSON.stringify(noId).replace('"jpegThumbnail":"AAAA"', '"jpegThumbnail":""'),
    ) as unknown;
    expect(JSON.parse(parsed.entries[1]?.body ?? '')).toEqual(withoutThumbnail);
  });

  it('a repaired body replayed becomes a job and leaves the quarantine', async () => {
    const good = fileWebhook('3EB0C767D097B7C7C030');
    const { idMessage: _drop, ...broken } = good;
    const id = await quarantineBody(broken);
    const other = await quarantineBody({
      typeWebhook: 'somethingNew',
      instanceData: { idInstance: Number(WA) },
    });
    await repair(id, good);

    expect(
      await runCli(['quarantine', 'replay', '--id', id], envOf(ctx), ctx.io, ctx.factory),
    ).toBe(0);
    const jobId = archiveJobId(WA, '79001234567@c.us', '3EB0C767D097B7C7C030');
    expect(ctx.io.text.out).toContain(`${id}  accepted: job ${jobId}`);

    const job = await ctx.deps.queue.getJob(jobId);
    expect(readArchiveJob(job?.data)).toMatchObject({
      ok: true,
      data: {
        source: 'replay',
        idInstance: WA,
        idMessage: '3EB0C767D097B7C7C030',
        fileName: 'report.pdf',
      },
    });
    const kept = job && readKeptMessage(job.data.message);
    expect(kept).toMatchObject({ idMessage: '3EB0C767D097B7C7C030' });
    expect(JSON.stringify(kept)).not.toContain('jpegThumbnail');
    // The deadline index knows the new job, as for any received webhook.
    expect(await ctx.deps.redis.zscore(redisKeys(ctx.queuePrefix).deadlines, jobId)).not.toBeNull();
    expect(await quarantine.get(id)).toBeUndefined();
    expect((await listQuarantine(ctx.deps, 10)).entries.map((e) => e.id)).toEqual([other]);
  });

  it('a body still unrecognised stays as it was, once, and the replay exits 1', async () => {
    const other = await quarantineBody({
      typeWebhook: 'somethingNew',
      instanceData: { idInstance: Number(WA) },
    });
    const before = await quarantine.get(other);

    expect(await runCli(['quarantine', 'replay', '--all'], envOf(ctx), ctx.io, ctx.factory)).toBe(
      1,
    );
    expect(ctx.io.text.out).toContain(`${other}  still unrecognised: unknown typeWebhook (kept)`);
    expect(await quarantine.size()).toBe(1);
    expect(await quarantine.get(other)).toEqual(before);
  });

  it('--all replays every entry: jobs, duplicates and record jobs leave', async () => {
    const a = await quarantineBody({ ...fileWebhook('A1'), idMessage: '' });
    const b = await quarantineBody({ ...fileWebhook('B1'), idMessage: '' });
    const status = await quarantineBody({ typeWebhook: 'outgoingMessageStatus', instanceData: {} });
    const stays = await quarantineBody({
      typeWebhook: 'somethingNew',
      instanceData: { idInstance: Number(WA) },
    });
    await repair(a, fileWebhook('A1'));
    await repair(b, fileWebhook('A1')); // the same message twice: the second is a duplicate
    await repair(status, {
      typeWebhook: 'outgoingMessageStatus',
      instanceData: { idInstance: Number(WA) },
      timestamp: now,
      status: 'read',
    });

    const outcomes = await replayQuarantine(ctx.deps, 'all');
    expect(Object.fromEntries(outcomes.map((o) => [o.id, o.outcome]))).toEqual({
      [a]: expect.stringMatching(/^(accepted|duplicate)$/),
      [b]: expect.stringMatching(/^(accepted|duplicate)$/),
      [status]: 'accepted',
      [stays]: 'quarantined',
    });
    // The file's job, and the status's record job.
    expect(outcomes.filter((o) => o.outcome === 'accepted')).toHaveLength(2);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(1);
    expect((await listQuarantine(ctx.deps, 10)).entries.map((e) => e.id)).toEqual([stays]);
    expect(await ctx.deps.queue.count()).toBe(1);
  });

  it('an unknown id is reported (exit 1)', async () => {
    expect(
      await runCli(['quarantine', 'replay', '--id', 'no-such-id'], envOf(ctx), ctx.io, ctx.factory),
    ).toBe(1);
    expect(ctx.io.text.out).toContain('no-such-id  no such quarantine entry');
  });
});
