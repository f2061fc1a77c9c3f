import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationCorpus } from '@archiver/testkit';
import { runCli } from '../src/cli.js';
import {
  createContext,
  envOf,
  MAX,
  putArchived,
  putRecords,
  seconds,
  WA,
  type TestContext,
} from './helpers.js';

const CHAT = '71234567890@c.us';
const MAX_CHAT = '-10000000000000';

describe('archiver transcript', () => {
  let ctx: TestContext;
  const t0 = seconds('2026-11-30T23:58:00Z');

  beforeAll(async () => {
    ctx = createContext('transcript');
    await putArchived(
      ctx,
      { idInstance: WA, kind: 'whatsapp', chatId: CHAT, idMessage: 'WAFILE1', timestamp: t0 },
      Buffer.alloc(300, 7),
    );
    const corpus = conversationCorpus(
      { kind: 'whatsapp', idInstance: WA },
      { chatId: CHAT, timestamp: t0, tag: 'WA', fileId: 'WAFILE1' },
    );
    await putRecords(
      ctx,
      corpus.map((e) => e.body),
    );
    const maxCorpus = conversationCorpus(
      { kind: 'max', idInstance: MAX },
      { chatId: MAX_CHAT, timestamp: t0, tag: '99' },
    );
    await putRecords(
      ctx,
      maxCorpus.map((e) => e.body),
      { kind: 'max' },
    );
  });
  afterAll(async () => ctx?.close());

  async function transcript(args: string[]) {
    const io = ctx.resetIo();
    const code = await runCli(['transcript', ...args], envOf(ctx), io, ctx.factory);
    return { code, out: io.text.out, err: io.text.err };
  }

  it('prints the timeline in order, edits against the text they replaced, deletions with the text', async () => {
    const { code, out, err } = await transcript(['--instance', WA, '--chat', CHAT]);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    // The file first (23:58), then every record of the corpus, across midnight.
    expect(lines[0]).toMatch(
      /^2026-11-30T23:58:00Z in .*\[documentMessage WAFILE1\] file \S+WAFILE1\.pdf 300 bytes sha256 [0-9a-f]{64}$/,
    );
    expect(out).toContain('[edit WAE1 of WAE0] "Price is 120" (replaces "Price is 100")');
    expect(out).toContain('[edit WAE2 of WAE0] "Price is 150" (replaces "Price is 120")');
    expect(out).toContain('[deleted WAD0 by WAD1] was "I never said that"');
    expect(out).toContain('[reaction WAR1 to WAD0] 👍 on "I never said that"');
    expect(out).toContain('[deleted WAFILE1 by WAD2]');
    expect(out).toContain('[votes WAP2 in WAP0] Yes: 0, No: 1 on "Sign today? [Yes | No]"');
    expect(out).toContain('(reply to WAT1 "Hello, contract attached soon") "Yes, that one"');
    expect(out).toMatch(/event \[outgoingMessageStatus read\] WAT3/);
    expect(out).toMatch(/event \[incomingCall missed\] WACALL1/);
    expect(out).toContain('[holographicMessage WAU1]');
    const times = lines.map((l) => l.slice(0, 20));
    expect([...times].sort()).toEqual(times);
    expect(err).toMatch(/2026-11-30: \d+ records/);
    expect(err).toMatch(/2026-12-01: \d+ records/);
  });

  it('narrows to days and prints JSON lines', async () => {
    const { code, out } = await transcript([
      '--instance',
      WA,
      '--chat',
      CHAT,
      '--since',
      '2026-12-01',
      '--format',
      'json',
    ]);
    expect(code).toBe(0);
    const entries = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string; idMessage?: string });
    expect(entries.length).toBeGreaterThan(5);
    expect(entries.every((e) => e.time >= '2026-12-01')).toBe(true);
    expect(entries.some((e) => e.idMessage === 'WAFILE1')).toBe(false);
  });

  it("reads a MAX instance's chat the same way", async () => {
    const { code, out } = await transcript(['--instance', MAX, `--chat=${MAX_CHAT}`]);
    expect(code).toBe(0);
    expect(out).toContain('[edit 99E2 of 99E0] "Price is 150" (replaces "Price is 120")');
    expect(out).toContain(
      '[edit 99E3 of 99T2] "We agree to 12 000 EUR" (replaces "We agree to 12 500 EUR")',
    );
    expect(out).toContain('[deleted 99T4 by 99D3] was "Wrong chat, sorry"');
    expect(out).toContain('[reaction 99R1 to 99D0] 👍 on "I never said that"');
    expect(out).toMatch(/event \[outgoingMessageStatus failed\] 99B1/);
    expect(out).not.toContain('WA');
  });

  it('refuses a call without --chat', async () => {
    expect((await transcript(['--instance', WA])).code).toBe(2);
  });
});
