import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { verifyArchive } from '../src/commands/verify.js';
import {
  createContext,
  envOf,
  MAX,
  putArchived,
  putFailure,
  putText,
  seconds,
  WA,
  type TestContext,
} from './helpers.js';

describe('archiver verify', () => {
  let ctx: TestContext;
  let files: Array<{ fileKey: string; sidecarKey: string; bytes: Buffer }>;

  beforeEach(async () => {
    ctx = createContext('verify');
    files = [];
    const seeds = [
      {
        idInstance: WA,
        kind: 'whatsapp' as const,
        chatId: '79001234567@c.us',
        idMessage: 'WA-1',
        timestamp: seconds('2025-03-01T00:00:00Z'),
      },
      // Large enough to arrive in many chunks: the hash is computed while streaming.
      {
        idInstance: WA,
        kind: 'whatsapp' as const,
        chatId: '79001234567@c.us',
        idMessage: 'WA-2',
        timestamp: seconds('2025-03-02T12:00:00Z'),
        size: 3 * 1024 * 1024,
      },
      {
        idInstance: MAX,
        kind: 'max' as const,
        chatId: '-100200300',
        idMessage: 'MAX-1',
        timestamp: seconds('2025-03-03T23:59:59Z'),
      },
    ];
    for (const seed of seeds) {
      const bytes = randomBytes(seed.size ?? 2048);
      files.push({ ...(await putArchived(ctx, seed, bytes)), bytes });
    }
    await putFailure(
      ctx,
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: '79001234567@c.us',
        idMessage: 'WA-3',
        timestamp: seconds('2025-03-02T08:00:00Z'),
      },
      'permanent_failure',
      'no_file',
    );
  });

  afterEach(async () => {
    await ctx.close();
  });

  it('passes on intact data (exit 0)', async () => {
    expect(await runCli(['verify'], envOf(ctx), ctx.io, ctx.factory)).toBe(0);
    expect(ctx.io.text.out).toContain('Verified: 3 of 3 archived files match');
    expect(ctx.io.text.out).toMatch(/OK\n$/);
    const result = await verifyArchive(ctx.deps, { concurrency: 4 });
    expect(result).toMatchObject({
      sidecars: 4,
      archived: 3,
      permanentFailures: 1,
      expired: 0,
      verified: 3,
      findings: [],
    });
    expect(result.bytesVerified).toBe(files.reduce((n, f) => n + f.bytes.length, 0));
  });

  it('detects a tampered object and a missing one, lists both, exit 1', async () => {
    const [tampered, , missing] = files as [
      (typeof files)[0],
      (typeof files)[0],
      (typeof files)[0],
    ];
    const changed = Buffer.from(tampered.bytes);
    changed[100] = (changed[100] ?? 0) ^ 0xff; // same size, one byte different
    await ctx.deps.s3.send(
      new PutObjectCommand({ Bucket: ctx.bucket, Key: tampered.fileKey, Body: changed }),
    );
    await ctx.deps.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: missing.fileKey }));

    const result = await verifyArchive(ctx.deps, { concurrency: 4 });
    expect(result.verified).toBe(1);
    expect(result.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          problem: 'mismatch',
          key: tampered.fileKey,
          expected: expect.objectContaining({ size: 2048 }),
          actual: expect.objectContaining({ size: 2048 }),
        }),
        expect.objectContaining({ problem: 'missing', key: missing.fileKey }),
      ]),
    );
    expect(result.findings).toHaveLength(2);

    const io = ctx.resetIo();
    expect(await runCli(['verify', '--concurrency', '2'], envOf(ctx), io, ctx.factory)).toBe(1);
    expect(io.text.out).toContain(`MISMATCH    ${tampered.fileKey}`);
    expect(io.text.out).toContain(`MISSING     ${missing.fileKey}`);
    expect(io.text.out).toContain('FAILED');
  });

  it('reports an unreadable sidecar (exit 1)', async () => {
    await putText(
      ctx,
      `${ctx.s3Prefix}whatsapp/${WA}/79001234567@c.us/2025/03/02/WA-9/message.json`,
      '{"status":"archived", truncated',
    );
    await putText(
      ctx,
      `${ctx.s3Prefix}whatsapp/${WA}/79001234567@c.us/2025/03/02/WA-10/message.json`,
      JSON.stringify({ status: 'archived' }),
    );
    const io = ctx.resetIo();
    expect(await runCli(['verify'], envOf(ctx), io, ctx.factory)).toBe(1);
    expect(io.text.out).toMatch(/UNREADABLE .*WA-9\/message\.json: not valid JSON/);
    expect(io.text.out).toMatch(/UNREADABLE .*WA-10\/message\.json: not a sidecar/);
    expect(io.text.out).toContain('3 of 3 archived files match');
  });

  it('narrows by instance and by the UTC day of the message, both ends inclusive', async () => {
    const byInstance = await verifyArchive(ctx.deps, { concurrency: 4, instance: MAX });
    expect(byInstance).toMatchObject({ sidecars: 1, verified: 1 });

    const broken = files[1]?.fileKey ?? '';
    await ctx.deps.s3.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: broken }));
    // 03-01 00:00:00 and 03-03 23:59:59 are in [03-01, 03-03]; the broken 03-02 file is not in [03-03, 03-03].
    expect(
      await verifyArchive(ctx.deps, { concurrency: 4, since: '2025-03-03', until: '2025-03-03' }),
    ).toMatchObject({ sidecars: 1, verified: 1, findings: [] });
    expect(await verifyArchive(ctx.deps, { concurrency: 4, until: '2025-03-01' })).toMatchObject({
      sidecars: 1,
      verified: 1,
      findings: [],
    });
    const all = await verifyArchive(ctx.deps, {
      concurrency: 4,
      since: '2025-03-01',
      until: '2025-03-03',
    });
    expect(all).toMatchObject({ sidecars: 4, verified: 2 });
    expect(all.findings).toEqual([expect.objectContaining({ problem: 'missing', key: broken })]);
  });
});
